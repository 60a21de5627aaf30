import { isCallSid, isE164, labelProblem, normalizeSid } from '../domain/ids.js';
import { kickCase, precheckKick } from '../moderation/actions/kick.js';
import type { KickRequest, TargetRef } from '../moderation/requests.js';
import { defineCommand, type CommandContext, type CommandInput, type ParseResult } from './command.js';

export interface KickArgs {
  target: TargetRef;
  reason?: string;
  dryRun: boolean;
  /** Set by card buttons: the call the card was made for. */
  expectedCallId?: string;
  /** Set by webhooks: the call, named directly. */
  call?: KickRequest['call'];
}

const request = (args: KickArgs, ctx: CommandContext): KickRequest => ({
  ...ctx.scope.request,
  action: 'kick',
  target: args.target,
  reason: args.reason,
  dryRun: args.dryRun,
  expectedCallId: args.expectedCallId,
  call: args.call,
});

/**
 * `/kick @person [reason]`, `/kick +15551234567 [reason]`, `/kick CA… [reason]`,
 * `/kick label:"Guest 3" [reason]` or `/kick label:Guest 3` (the rest of the line is the label).
 */
export const kickCommand = defineCommand<KickArgs>({
  name: 'kick',
  usage: '/kick @person [reason] [--dry-run]',
  summary: "Remove someone from this chat's call: @mention them, or give a phone number (+15551234567), a CallSid or label:<name>.",
  permission: 'moderator',
  parse(rawRest, input): ParseResult<KickArgs> {
    // `--dry-run` anywhere: show who would be removed, remove nobody.
    const dryRun = /(^|\s)--dry-run(?=\s|$)/i.test(rawRest);
    const rest = rawRest.replace(/(^|\s)--dry-run(?=\s|$)/gi, ' ');
    const parsed = parseTarget(rest, input);
    return parsed.ok ? { ok: true, args: { ...parsed.args, dryRun } } : parsed;
  },
  prepare(args, ctx) {
    // The target's identity is looked up while the permission is checked.
    if (args.target.kind === 'mention') void ctx.scope.user(args.target.chatId);
  },
  precheck(args, ctx) {
    return precheckKick(request(args, ctx), ctx.scope);
  },
  async refuse(args, ctx, refusal) {
    const { recorder, summary } = await kickCase(request(args, ctx), ctx.scope, refusal.kind === 'denied' && !('target' in refusal && refusal.target));
    const outcome = await recorder.record(refusal.kind === 'denied' ? { ...refusal, target: refusal.target ?? summary } : refusal);
    return { type: 'outcome', outcome };
  },
  async run(args, ctx) {
    return { type: 'outcome', outcome: await ctx.moderation.execute(request(args, ctx), ctx.scope) };
  },
});

function parseTarget(rest: string, input: CommandInput): ParseResult<{ target: TargetRef; reason?: string }> {
  const distinct = new Map(input.mentions.map((m) => [m.chatId, m]));
  if (distinct.size > 1) {
    const names = [...distinct.values()].map((m) => m.displayName ?? m.chatId);
    return { ok: false, problem: { kind: 'several_targets', command: 'kick', names } };
  }
  const reasonOf = (text: string) => (text.trim() === '' ? undefined : text.trim());
  if (distinct.size === 1) {
    const m = input.mentions[0]!;
    return { ok: true, args: { target: { kind: 'mention', chatId: m.chatId, displayName: m.displayName }, reason: reasonOf(rest) } };
  }
  const text = rest.trim();
  const label = /^label:\s*(?:"([^"]*)"|'([^']*)')\s*([\s\S]*)$/i.exec(text) ?? /^label:\s*([\s\S]+)$/i.exec(text);
  if (label) {
    const value = (label[1] ?? label[2] ?? '').trim();
    const reason = label.length > 3 ? reasonOf(label[3] ?? '') : undefined;
    const problem = labelProblem(value);
    if (problem === 'empty') return { ok: false, problem: { kind: 'no_target', command: 'kick' } };
    if (problem) return { ok: false, problem: { kind: 'invalid_label', label: value, why: problem } };
    return { ok: true, args: { target: { kind: 'label', label: value }, reason } };
  }
  const [first = '', ...others] = text.split(' ');
  if (isE164(first)) return { ok: true, args: { target: { kind: 'phone', number: first }, reason: reasonOf(others.join(' ')) } };
  if (isCallSid(first)) {
    return { ok: true, args: { target: { kind: 'participant', participantId: normalizeSid(first) }, reason: reasonOf(others.join(' ')) } };
  }
  return { ok: false, problem: { kind: 'no_target', command: 'kick' } };
}
