import { CaseRecorder } from '../moderation/steps/audit.js';
import { chatOf, defineCommand } from './command.js';

/** `/unbind`: disconnect this chat from its call (Teams: Bouncer leaves the meeting's call). */
export const unbindCommand = defineCommand<Record<string, never>>({
  name: 'unbind',
  usage: '/unbind',
  summary: 'Disconnect this chat from its call or conference.',
  permission: 'moderator',
  parse() {
    return { ok: true, args: {} };
  },
  async refuse(_args, ctx, refusal) {
    return { type: 'outcome', outcome: await new CaseRecorder(ctx.moderation.deps, chatOf(ctx), 'unbind').record(refusal) };
  },
  async run(_args, ctx) {
    return { type: 'outcome', outcome: await ctx.moderation.execute({ ...chatOf(ctx), action: 'unbind' }, ctx.scope) };
  },
});
