import type { MuteRequest, WarnRequest } from '../moderation/requests.js';
import { personCase, precheckPerson } from '../moderation/steps/removal-target.js';
import type { CommandContext, CommandDefinition } from './command.js';

/**
 * The runner's hooks the commands acting on one person without removing them share (/mute,
 * /unmute, /warn): lookups started early, early refusals, refusals audited as cases, the action
 * run. Their targets' grammar is the kick's (`parseOneTarget` in kick.ts).
 */
export function personCommandHooks<A>(
  request: (args: A, ctx: CommandContext) => MuteRequest | WarnRequest,
): Pick<CommandDefinition<A>, 'prepare' | 'precheck' | 'refuse' | 'run'> {
  return {
    prepare(args, ctx) {
      // The target's identity is looked up while the permission is checked.
      const t = request(args, ctx).target;
      if (t.kind === 'mention') void ctx.scope.user(t.chatId);
    },
    precheck(args, ctx) {
      const req = request(args, ctx);
      return precheckPerson(req, ctx.scope, req.action);
    },
    async refuse(args, ctx, refusal) {
      const lookUp = refusal.kind === 'denied' && !('target' in refusal && refusal.target);
      const req = request(args, ctx);
      const { recorder, summary } = await personCase(req, ctx.scope, req.action, lookUp);
      const outcome = await recorder.record(refusal.kind === 'denied' ? { ...refusal, target: refusal.target ?? summary } : refusal);
      return { type: 'outcome', outcome };
    },
    async run(args, ctx) {
      return { type: 'outcome', outcome: await ctx.moderation.execute(request(args, ctx), ctx.scope) };
    },
  };
}
