import { banCase, MAX_BAN_MS, precheckBan } from '../moderation/actions/ban.js';
import type { BanRequest, TargetRef } from '../moderation/requests.js';
import { defineCommand, type CommandContext, type ParseResult } from './command.js';
import { parseOneTarget } from './kick.js';

export interface BanArgs {
  target: TargetRef;
  reason?: string;
  durationMs?: number;
  everywhere: boolean;
  /** Set by webhooks: the call, named directly. */
  call?: BanRequest['call'];
  /** Set by card buttons: the call the card was made for. */
  expectedCallId?: string;
  /** Set by webhooks: resolve and authorize, ban nobody. */
  dryRun?: boolean;
}

const request = (args: BanArgs, ctx: CommandContext): BanRequest => ({
  ...ctx.scope.request,
  action: 'ban',
  target: args.target,
  reason: args.reason,
  durationMs: args.durationMs,
  everywhere: args.everywhere,
  call: args.call,
  expectedCallId: args.expectedCallId,
  dryRun: args.dryRun,
});

const EVERYWHERE_FLAG = /(^|\s)--everywhere(?=\s|$)/i;
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3600_000, d: 86_400_000, w: 7 * 86_400_000 };
/** `for 30m`, `for 2 hours`, `for 7d` (or `30m`, `2h`, `7d` without `for`) at the start of the words after the target. */
const FOR_DURATION = /^for\s+(\d{1,9})\s*(m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)(?=\s|$)\s*/i;
const BARE_DURATION = /^(\d{1,9})(m|h|d|w)(?=\s|$)\s*/i;
/** `for` followed by a number: meant as a length, so one that does not parse is a problem, not a reason. */
const FOR_NUMBER = /^for\s+(\d\S*(?:\s+\S+)?)/i;

/**
 * `/ban <target> [for <duration>] [reason] [--everywhere]`: the target as for `/kick`; the length
 * in minutes, hours, days or weeks (`for 30m`, `for 2h`, `for 7d`; at most 365 days; none: until
 * `/unban`). A reason that starts with "for" and no number stays a reason ("for spamming").
 */
export const banCommand = defineCommand<BanArgs>({
  name: 'ban',
  usage: '/ban @person [for 30m|2h|7d] [reason] [--everywhere]',
  summary:
    "Remove someone and keep them out of this chat's calls until `/unban` or the time given; by @mention, phone number, CallSid or label:<name>. Admins can add --everywhere.",
  permission: 'moderator',
  parse(rawRest, input): ParseResult<BanArgs> {
    const everywhere = EVERYWHERE_FLAG.test(rawRest);
    const withoutFlag = (text: string) => text.replace(new RegExp(EVERYWHERE_FLAG.source, 'gi'), ' ').trim();
    // Mentions are placed by the message's words (the flag among them); other targets read the words themselves.
    const parsed = parseOneTarget(input.mentions.length > 0 ? rawRest : withoutFlag(rawRest), input, 'ban');
    if (!parsed.ok) return parsed;
    const words = withoutFlag(parsed.args.reason ?? '');
    const length = parseDuration(words);
    if (length && 'problem' in length) return { ok: false, problem: length.problem };
    const reason = (length ? words.slice(length.consumed) : words).trim();
    return { ok: true, args: { target: parsed.args.target, reason: reason === '' ? undefined : reason, durationMs: length?.ms, everywhere } };
  },
  prepare(args, ctx) {
    // The target's identity is looked up while the permission is checked.
    if (args.target.kind === 'mention') void ctx.scope.user(args.target.chatId);
  },
  precheck(args, ctx) {
    return precheckBan(request(args, ctx), ctx.scope);
  },
  async refuse(args, ctx, refusal) {
    const { recorder, summary } = await banCase(request(args, ctx), ctx.scope, refusal.kind === 'denied' && !('target' in refusal && refusal.target));
    const outcome = await recorder.record(refusal.kind === 'denied' ? { ...refusal, target: refusal.target ?? summary } : refusal);
    return { type: 'outcome', outcome };
  },
  async run(args, ctx) {
    return { type: 'outcome', outcome: await ctx.moderation.execute(request(args, ctx), ctx.scope) };
  },
});

/** A ban length at the start of `words`: its milliseconds and how many characters it took, a problem, or undefined (none given). */
export function parseDuration(words: string): { ms: number; consumed: number } | { problem: { kind: 'invalid_duration'; text: string; maxDays: number } } | undefined {
  const maxDays = MAX_BAN_MS / 86_400_000;
  const m = FOR_DURATION.exec(words) ?? BARE_DURATION.exec(words);
  if (!m) {
    const meant = FOR_NUMBER.exec(words);
    return meant ? { problem: { kind: 'invalid_duration', text: meant[1]!, maxDays } } : undefined;
  }
  const ms = Number(m[1]) * UNIT_MS[m[2]![0]!.toLowerCase()]!;
  if (ms < UNIT_MS.m! || ms > MAX_BAN_MS) return { problem: { kind: 'invalid_duration', text: m[0].trim().replace(/^for\s+/i, ''), maxDays } };
  return { ms, consumed: m[0].length };
}
