import { defineCommand } from './command.js';

/** `/bans`: who is banned from this chat's calls, and who from every call. */
export const bansCommand = defineCommand<Record<string, never>>({
  name: 'bans',
  usage: '/bans',
  summary: "Show who is banned from this chat's calls (and from every call), until when, and each ban's case number.",
  permission: 'moderator',
  parse(rest) {
    return rest.trim() === '' ? { ok: true, args: {} } : { ok: false, problem: { kind: 'bad_arguments', command: 'bans', usage: '/bans' } };
  },
  async run(_args, ctx) {
    return { type: 'read', result: await ctx.moderation.read({ kind: 'bans' }, ctx.scope) };
  },
});
