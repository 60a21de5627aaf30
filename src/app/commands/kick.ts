import { isCallSid, isE164, labelProblem, normalizeSid } from '../domain/ids.js';
import { kickCase, precheckKick } from '../moderation/actions/kick.js';
import type { KickRequest, TargetRef } from '../moderation/requests.js';
import { defineCommand, type CommandContext, type CommandInput, type Mention, type ParseResult } from './command.js';

/** The most people one chat `/kick` removes; more is refused with a plain answer, nobody removed. */
export const MAX_CHAT_KICK_TARGETS = 25;

export interface KickArgs {
  target: TargetRef;
  /**
   * Two or more people named at once (`/kick @a @b reason`): each is kicked as if named alone, with
   * a case of their own (see `split`); `target` is the first of them.
   */
  targets?: TargetRef[];
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
 * `/kick @person [reason]`, `/kick @a @b @c [reason]` (up to MAX_CHAT_KICK_TARGETS people, each
 * removed as if named alone), `/kick +15551234567 [reason]`, `/kick CA… [reason]`,
 * `/kick label:"Guest 3" [reason]` or `/kick label:Guest 3` (the rest of the line is the label).
 */
export const kickCommand = defineCommand<KickArgs>({
  name: 'kick',
  usage: '/kick @person [reason] [--dry-run]',
  summary:
    "Remove someone from this chat's call: @mention them (several at once: mention them all first, then the reason), " +
    'or give a phone number (+15551234567), a CallSid or label:<name>.',
  permission: 'moderator',
  parse(rawRest, input): ParseResult<KickArgs> {
    // `--dry-run` anywhere: show who would be removed, remove nobody.
    const dryRun = DRY_RUN_FLAG.test(rawRest);
    if (input.mentions.length > 0) return parseMentions(rawRest, input, dryRun);
    const rest = rawRest.replace(/(^|\s)--dry-run(?=\s|$)/gi, ' ');
    const parsed = parseTarget(rest);
    return parsed.ok ? { ok: true, args: { ...parsed.args, dryRun } } : parsed;
  },
  split(args) {
    if (!args.targets || args.targets.length < 2) return undefined;
    const { targets, ...one } = args;
    return targets.map((target) => ({ ...one, target }));
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

const DRY_RUN_FLAG = /(^|\s)--dry-run(?=\s|$)/i;
/** Words that may stand between the mentioned people (`@a, @b`) and after the last, and the flag. */
const BETWEEN_MENTIONS = /^(?:[,;&]+|--dry-run)$/i;

/**
 * People named by mention. The targets are the mentions that come first: the first mention and
 * those right after it (with nothing but `,` `;` `&` or the flag between them); the words are the
 * reason, the mentions in it left out (`/kick @a @b for abusing @c` removes a and b, never c).
 * A mention whose place the channel cannot tell counts as a target.
 */
function parseMentions(rawRest: string, input: CommandInput, dryRun: boolean, command = 'kick'): ParseResult<KickArgs> {
  const words = input.text === '' ? [] : input.text.split(' ');
  const restWords = rawRest.trim() === '' ? [] : rawRest.trim().split(/\s+/);
  const restStart = Math.max(0, words.length - restWords.length);
  const placed = input.mentions.filter((m) => m.at !== undefined).sort((a, b) => a.at! - b.at!);
  const leading: Mention[] = [];
  const skipped = new Set<number>();
  for (const m of placed) {
    const previous = leading.at(-1);
    if (previous) {
      const between = words.slice(previous.at, m.at);
      if (!between.every((w) => BETWEEN_MENTIONS.test(w))) break;
      between.forEach((_w, i) => skipped.add(previous.at! + i));
    }
    leading.push(m);
  }
  const last = leading.at(-1);
  if (last) for (let i = last.at!; i < words.length && BETWEEN_MENTIONS.test(words[i]!); i++) skipped.add(i);
  const people = new Map([...leading, ...input.mentions.filter((m) => m.at === undefined)].map((m) => [m.chatId, m]));
  if (people.size > MAX_CHAT_KICK_TARGETS) {
    return { ok: false, problem: { kind: 'too_many_targets', command, count: people.size, limit: MAX_CHAT_KICK_TARGETS } };
  }
  const reasonWords = words.slice(restStart).filter((w, i) => !skipped.has(restStart + i) && !/^--dry-run$/i.test(w));
  const reason = reasonWords.length > 0 ? reasonWords.join(' ') : undefined;
  const targets: TargetRef[] = [...people.values()].map((m) => ({ kind: 'mention', chatId: m.chatId, displayName: m.displayName }));
  const [target] = targets;
  if (!target) return { ok: false, problem: { kind: 'no_target', command } };
  return { ok: true, args: { target, ...(targets.length > 1 ? { targets } : {}), reason, dryRun } };
}

/**
 * The one person a command acts on (`/ban`, `/unban`) and the words after it (the reason): the
 * first mention, as `/kick` reads mentions (others right after it: several_targets; mentions in
 * the reason are not targets), or a phone number (E.164), a CallSid or `label:"…"` / `label:…`
 * (the rest of the line is the label). `command` names the command in parse problems.
 */
export function parseOneTarget(rawRest: string, input: CommandInput, command: string): ParseResult<{ target: TargetRef; reason?: string }> {
  if (input.mentions.length === 0) return parseTarget(rawRest, command);
  const parsed = parseMentions(rawRest, input, false, command);
  if (!parsed.ok) return parsed;
  const { target, targets, reason } = parsed.args;
  if (targets && targets.length > 1) {
    const names = targets.map((t) => (t.kind === 'mention' ? (t.displayName ?? t.chatId) : ''));
    return { ok: false, problem: { kind: 'several_targets', command, names } };
  }
  return { ok: true, args: { target, reason } };
}

function parseTarget(rest: string, command = 'kick'): ParseResult<{ target: TargetRef; reason?: string }> {
  const reasonOf = (text: string) => (text.trim() === '' ? undefined : text.trim());
  const text = rest.trim();
  const label = /^label:\s*(?:"([^"]*)"|'([^']*)')\s*([\s\S]*)$/i.exec(text) ?? /^label:\s*([\s\S]+)$/i.exec(text);
  if (label) {
    const value = (label[1] ?? label[2] ?? '').trim();
    const reason = label.length > 3 ? reasonOf(label[3] ?? '') : undefined;
    const problem = labelProblem(value);
    if (problem === 'empty') return { ok: false, problem: { kind: 'no_target', command } };
    if (problem) return { ok: false, problem: { kind: 'invalid_label', label: value, why: problem } };
    return { ok: true, args: { target: { kind: 'label', label: value }, reason } };
  }
  const [first = '', ...others] = text.split(' ');
  if (isE164(first)) return { ok: true, args: { target: { kind: 'phone', number: first }, reason: reasonOf(others.join(' ')) } };
  if (isCallSid(first)) {
    return { ok: true, args: { target: { kind: 'participant', participantId: normalizeSid(first) }, reason: reasonOf(others.join(' ')) } };
  }
  return { ok: false, problem: { kind: 'no_target', command } };
}
