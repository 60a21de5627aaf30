import { defineCommand, requestBase, type Mention } from './command.js';

/** `/kick @user [reason]`: remove the mentioned person from the chat's call. */
export const kickCommand = defineCommand<{ target: Mention; reason?: string }>({
  name: 'kick',
  usage: '/kick @person [reason]',
  summary: "Remove the mentioned person from this meeting's call.",
  parse(rest, input) {
    if (input.mentions.length === 0) return { ok: false, problem: { kind: 'no_target', command: 'kick' } };
    const distinct = new Map(input.mentions.map((m) => [m.chatId, m]));
    if (distinct.size > 1) {
      const names = [...distinct.values()].map((m) => m.displayName ?? m.chatId);
      return { ok: false, problem: { kind: 'several_targets', command: 'kick', names } };
    }
    const reason = rest.trim();
    return { ok: true, args: { target: input.mentions[0]!, reason: reason === '' ? undefined : reason } };
  },
  async run(args, ctx) {
    const outcome = await ctx.service.execute(
      { ...requestBase(ctx), action: 'kick', target: args.target, reason: args.reason },
      ctx.directory,
    );
    return { type: 'outcome', outcome };
  },
});
