import { CaseRecorder } from '../moderation/steps/audit.js';
import type { EditReasonRequest } from '../moderation/requests.js';
import { chatOf, defineCommand, type CommandContext, type Mention } from './command.js';

const CASE_USAGE = '/case <n>';
const REASON_USAGE = '/reason <n> <new reason>';
const CASES_USAGE = '/cases @person';
const CASES_SHOWN = 20;

/** A case number as typed: `12` or `#12`. */
function caseNumber(word: string | undefined): number | undefined {
  const m = /^#?(\d{1,15})$/.exec(word ?? '');
  const n = m ? Number(m[1]) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/**
 * `/case <n>`: one case, and its reason's history. The runner asks whether the asker moderates
 * here; the action then asks the policy about the case's own chat (its moderators and admins).
 */
export const caseCommand = defineCommand<{ caseId: number }>({
  name: 'case',
  usage: CASE_USAGE,
  summary: "Show one case: what was done, by whom, to whom, where, its outcome and reason (with the original, if it was edited).",
  permission: 'moderator',
  parse(rest) {
    const words = rest.trim().split(/\s+/).filter(Boolean);
    const caseId = words.length === 1 ? caseNumber(words[0]) : undefined;
    return caseId === undefined ? { ok: false, problem: { kind: 'bad_arguments', command: 'case', usage: CASE_USAGE } } : { ok: true, args: { caseId } };
  },
  async run(args, ctx) {
    return { type: 'read', result: await ctx.moderation.read({ kind: 'case', caseId: args.caseId }, ctx.scope) };
  },
});

/** `/cases @person`: the cases against a person in every chat the asker moderates (admins: every chat). */
export const casesCommand = defineCommand<{ target: Mention }>({
  name: 'cases',
  usage: CASES_USAGE,
  summary: `List the cases against someone (the newest ${CASES_SHOWN}), from every chat you moderate.`,
  permission: 'moderator',
  parse(rest, input) {
    const distinct = new Map(input.mentions.map((m) => [m.chatId, m]));
    if (distinct.size === 0) return { ok: false, problem: { kind: 'no_target', command: 'cases' } };
    if (distinct.size > 1) return { ok: false, problem: { kind: 'several_targets', command: 'cases', names: [...distinct.values()].map((m) => m.displayName ?? m.chatId) } };
    if (rest.trim() !== '') return { ok: false, problem: { kind: 'bad_arguments', command: 'cases', usage: CASES_USAGE } };
    return { ok: true, args: { target: input.mentions[0]! } };
  },
  async run(args, ctx) {
    const target = { kind: 'mention' as const, chatId: args.target.chatId, displayName: args.target.displayName };
    return { type: 'read', result: await ctx.moderation.read({ kind: 'cases_against', target, limit: CASES_SHOWN }, ctx.scope) };
  },
});

const reasonRequest = (args: { caseId: number; reason: string }, ctx: CommandContext): EditReasonRequest => ({
  ...chatOf(ctx),
  action: 'edit_reason',
  caseId: args.caseId,
  reason: args.reason,
});

/** `/reason <n> <text>`: replace a case's reason; audited, and the reason replaced is kept. */
export const reasonCommand = defineCommand<{ caseId: number; reason: string }>({
  name: 'reason',
  usage: REASON_USAGE,
  summary: "Change a case's reason (its moderators and admins); the original is kept and `/case` shows it.",
  permission: 'moderator',
  parse(rest) {
    const text = rest.trim();
    const space = text.search(/\s/);
    const caseId = caseNumber(space < 0 ? text : text.slice(0, space));
    const reason = space < 0 ? '' : text.slice(space).trim();
    if (caseId === undefined || reason === '') return { ok: false, problem: { kind: 'bad_arguments', command: 'reason', usage: REASON_USAGE } };
    return { ok: true, args: { caseId, reason } };
  },
  async refuse(args, ctx, refusal) {
    const req = reasonRequest(args, ctx);
    const recorder = new CaseRecorder(ctx.moderation.deps, req, 'edit_reason', req.reason).detail({ caseId: req.caseId });
    return { type: 'outcome', outcome: await recorder.record(refusal) };
  },
  async run(args, ctx) {
    return { type: 'outcome', outcome: await ctx.moderation.execute(reasonRequest(args, ctx), ctx.scope) };
  },
});
