import { defineCommand } from './command.js';

/** `/status`: the chat's binding, the call's state and roster size, and what is configured. */
export const statusCommand = defineCommand<Record<string, never>>({
  name: 'status',
  usage: '/status',
  summary: 'Show what this chat is connected to and what Bouncer can reach.',
  permission: 'moderator',
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, ctx) {
    return { type: 'read', result: await ctx.moderation.read({ kind: 'status' }, ctx.scope) };
  },
});
