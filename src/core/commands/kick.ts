import type { TargetRef } from '../moderation-service.js';
import { defineCommand, requestBase, type CommandInput, type ParseResult } from './command.js';

const E164 = /^\+[1-9]\d{6,14}$/;
const CALL_SID = /^CA[0-9a-f]{32}$/i;

/**
 * `/kick @person [reason]`, `/kick +15551234567 [reason]`, `/kick CA… [reason]`,
 * `/kick label:"Guest 3" [reason]` or `/kick label:Guest 3` (the rest of the line is the label).
 */
export const kickCommand = defineCommand<{ target: TargetRef; reason?: string; dryRun: boolean }>({
  name: 'kick',
  usage: '/kick @person [reason] [--dry-run]',
  summary: "Remove someone from this chat's call: @mention them, or give a phone number (+15551234567), a CallSid or label:<name>.",
  moderatorOnly: true,
  parse(rawRest, input): ParseResult<{ target: TargetRef; reason?: string; dryRun: boolean }> {
    // `--dry-run` anywhere: show who would be removed, remove nobody.
    const dryRun = /(^|\s)--dry-run(?=\s|$)/i.test(rawRest);
    const rest = rawRest.replace(/(^|\s)--dry-run(?=\s|$)/gi, ' ');
    const parsed = parseTarget(rest, input);
    return parsed.ok ? { ok: true, args: { ...parsed.args, dryRun } } : parsed;
  },
  async run(args, ctx) {
    const outcome = await ctx.service.execute(
      { ...requestBase(ctx), action: 'kick', target: args.target, reason: args.reason, dryRun: args.dryRun },
      ctx.directory,
    );
    return { type: 'outcome', outcome };
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
    if (value === '') return { ok: false, problem: { kind: 'no_target', command: 'kick' } };
    // Twilio addresses a participant by label in the URL path; a `/` cannot be expressed there.
    if (value.includes('/')) return { ok: false, problem: { kind: 'invalid_label', label: value } };
    return { ok: true, args: { target: { kind: 'label', label: value }, reason } };
  }
  const [first = '', ...others] = text.split(' ');
  if (E164.test(first)) return { ok: true, args: { target: { kind: 'phone', number: first }, reason: reasonOf(others.join(' ')) } };
  if (CALL_SID.test(first)) {
    return { ok: true, args: { target: { kind: 'participant', participantId: `CA${first.slice(2).toLowerCase()}` }, reason: reasonOf(others.join(' ')) } };
  }
  return { ok: false, problem: { kind: 'no_target', command: 'kick' } };
}
