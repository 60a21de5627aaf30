import { defineCommand, requestBase } from './command.js';

/** `/bind`: join this meeting's call now, so that later kicks are immediate. */
export const bindCommand = defineCommand<Record<string, never>>({
  name: 'bind',
  usage: '/bind',
  summary: "Join this meeting's call ahead of time (the first /kick does it too).",
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, ctx) {
    const outcome = await ctx.service.execute({ ...requestBase(ctx), action: 'bind' }, ctx.directory);
    return { type: 'outcome', outcome };
  },
});
