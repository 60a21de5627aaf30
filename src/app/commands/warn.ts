import type { TargetRef, WarnRequest } from '../moderation/requests.js';
import { defineCommand, type CommandContext, type ParseResult } from './command.js';
import { parseOneTarget } from './kick.js';
import { personCommandHooks } from './person-command.js';

export interface WarnArgs {
  target: TargetRef;
  reason: string;
  /** Set by webhooks: the call, named directly. */
  call?: WarnRequest['call'];
  /** Set by webhooks: resolve and authorize, warn nobody. */
  dryRun?: boolean;
}

const USAGE = '/warn @person <reason>';

const request = (args: WarnArgs, ctx: CommandContext): WarnRequest => ({
  ...ctx.scope.request,
  action: 'warn',
  target: args.target,
  reason: args.reason,
  call: args.call,
  dryRun: args.dryRun,
});

/**
 * `/warn @person <reason>` (or a number, CallSid or label:<name>, as for /kick): a private notice
 * only that person gets. The reason is what they are told, so it is required.
 */
export const warnCommand = defineCommand<WarnArgs>({
  name: 'warn',
  usage: USAGE,
  summary: 'Warn someone privately, with a reason: only they see it (Teams) or hear it (phone conferences).',
  permission: 'moderator',
  parse(rest, input): ParseResult<WarnArgs> {
    const parsed = parseOneTarget(rest, input, 'warn');
    if (!parsed.ok) return parsed;
    const { target, reason } = parsed.args;
    if (!reason) return { ok: false, problem: { kind: 'bad_arguments', command: 'warn', usage: USAGE } };
    return { ok: true, args: { target, reason } };
  },
  ...personCommandHooks(request),
});
