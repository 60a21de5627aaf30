import { defineCommand } from './command.js';

const DEFAULT_ENTRIES = 10;
const MAX_ENTRIES = 50;

/** `/modlog [n]`: this chat's most recent cases. */
export const modlogCommand = defineCommand<{ limit: number }>({
  name: 'modlog',
  usage: `/modlog [n]`,
  summary: `Show this chat's recent cases (${DEFAULT_ENTRIES} by default, at most ${MAX_ENTRIES}).`,
  permission: 'moderator',
  parse(rest) {
    const text = rest.trim();
    if (text === '') return { ok: true, args: { limit: DEFAULT_ENTRIES } };
    if (!/^\d{1,4}$/.test(text) || Number(text) < 1) {
      return { ok: false, problem: { kind: 'bad_arguments', command: 'modlog', usage: '/modlog [n]' } };
    }
    return { ok: true, args: { limit: Math.min(Number(text), MAX_ENTRIES) } };
  },
  async run(args, ctx) {
    return { type: 'read', result: await ctx.moderation.read({ kind: 'modlog', limit: args.limit }, ctx.scope) };
  },
});
