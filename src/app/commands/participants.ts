import { defineCommand } from './command.js';

/** `/participants`: the call's roster, with a Remove button per person. */
export const participantsCommand = defineCommand<Record<string, never>>({
  name: 'participants',
  usage: '/participants',
  summary: "List who is in this chat's call, with a Remove button for each.",
  permission: 'moderator',
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, ctx) {
    return { type: 'read', result: await ctx.moderation.read({ kind: 'roster' }, ctx.scope) };
  },
});
