import type { UnbanRequest } from '../moderation/requests.js';
import { CaseRecorder } from '../moderation/steps/audit.js';
import { summarize } from '../moderation/steps/resolve-target.js';
import { chatOf, defineCommand, type CommandContext, type ParseResult } from './command.js';
import { parseOneTarget } from './kick.js';

export interface UnbanArgs {
  ban: UnbanRequest['ban'];
  reason?: string;
  /** Set by webhooks: the call, named directly (its bound chat's bans). */
  call?: UnbanRequest['call'];
  /** Set by webhooks: find the bans, lift none. */
  dryRun?: boolean;
}

const USAGE = '/unban @person | +15551234567 | label:<name> | <case number>';

const request = (args: UnbanArgs, ctx: CommandContext): UnbanRequest => ({
  // A chat's unban acts on its own bans; a webhook's names its call instead.
  ...(args.call ? ctx.scope.request : chatOf(ctx)),
  action: 'unban',
  ban: args.ban,
  call: args.call,
  dryRun: args.dryRun,
});

/**
 * `/unban @person`, `/unban +15551234567`, `/unban label:"Guest 3"`: lifts the active bans that
 * name them here (and everywhere, for admins); `/unban 42` or `/unban #42`: the ban made by case
 * 42. Audited.
 */
export const unbanCommand = defineCommand<UnbanArgs>({
  name: 'unban',
  usage: USAGE,
  summary: 'Lift a ban: @mention the person, give their number or label, or the case number `/bans` shows.',
  permission: 'moderator',
  parse(rest, input): ParseResult<UnbanArgs> {
    const byCase = /^\s*#?(\d{1,15})(?:\s+([\s\S]*))?$/.exec(rest);
    if (input.mentions.length === 0 && byCase) {
      return { ok: true, args: { ban: { kind: 'case', caseId: Number(byCase[1]) }, reason: byCase[2]?.trim() || undefined } };
    }
    const parsed = parseOneTarget(rest, input, 'unban');
    if (!parsed.ok) return parsed;
    const { target, reason } = parsed.args;
    // A CallSid names a call leg that has ended by now: bans keep numbers, not CallSids.
    if (target.kind === 'participant') return { ok: false, problem: { kind: 'bad_arguments', command: 'unban', usage: USAGE } };
    return { ok: true, args: { ban: { kind: 'target', target }, reason } };
  },
  async refuse(args, ctx, refusal) {
    const recorder = new CaseRecorder(ctx.moderation.deps, request(args, ctx), 'unban', args.reason);
    if (args.ban.kind === 'target') recorder.about(summarize(args.ban.target), args.ban.target);
    return { type: 'outcome', outcome: await recorder.record(refusal) };
  },
  async run(args, ctx) {
    return { type: 'outcome', outcome: await ctx.moderation.execute({ ...request(args, ctx), reason: args.reason }, ctx.scope) };
  },
});
