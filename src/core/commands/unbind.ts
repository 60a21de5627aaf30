import { defineCommand, requestBase } from './command.js';

/** `/unbind`: disconnect this chat from its call (Teams: Bouncer leaves the meeting's call). */
export const unbindCommand = defineCommand<Record<string, never>>({
  name: 'unbind',
  usage: '/unbind',
  summary: 'Disconnect this chat from its call or conference.',
  moderatorOnly: true,
  parse() {
    return { ok: true, args: {} };
  },
  async run(_args, ctx) {
    const outcome = await ctx.service.execute({ ...requestBase(ctx), action: 'unbind' }, ctx.directory);
    return { type: 'outcome', outcome };
  },
});
