import { z } from 'zod';
import { CALL_SID_PATTERN, E164_PATTERN, LABEL_MAX_LENGTH, labelProblem } from '../../app/domain/ids.js';
import { OUTCOME_KINDS } from '../../app/domain/outcome.js';
import { MODERATION_ACTIONS, REQUEST_SOURCES } from '../../app/ports/store.js';
import { parseIsoDuration } from './iso-duration.js';

/** How a provider names one of its calls in a webhook body: a one-key object (from its module). */
export interface WebhookCallSyntax {
  /** The provider's kind. */
  provider: string;
  /** The key, e.g. `twilioConference`. */
  field: string;
  schema: z.ZodObject;
}

/** A call named by the chat bound to it. */
const conversationCallSchema = z
  .object({ conversationId: z.string().min(1).max(512).describe('A Teams conversation already bound to a call (see /bind).') })
  .strict();

/** Which call to act on. Exactly one way of naming it: a bound chat, or one of each provider's. */
export function callRefSchema(calls: readonly WebhookCallSyntax[]) {
  return z.union([conversationCallSchema, ...calls.map((c) => c.schema)]);
}

/** Whom to remove. Exactly one way of naming them. */
export const targetRefSchema = z.union([
  z.object({ userId: z.guid().describe('Entra object id of a Teams user.') }).strict(),
  z.object({ participantId: z.string().min(1).max(128).describe('Graph participant id (Teams) or CallSid (Twilio).') }).strict(),
  z
    .object({
      label: z
        .string()
        .min(1)
        .max(LABEL_MAX_LENGTH)
        .refine((l) => labelProblem(l) !== 'slash', { message: 'a Twilio label cannot contain "/"' })
        .describe('Twilio participant label.'),
    })
    .strict(),
  z.object({ callSid: z.string().regex(CALL_SID_PATTERN).describe('Twilio CallSid.') }).strict(),
  z.object({ phoneNumber: z.string().regex(E164_PATTERN).describe('The caller’s number in E.164, e.g. +15551234567.') }).strict(),
]);

/** The most targets one bulk kick names. */
export const MAX_BULK_TARGETS = 100;

/** What every action body says besides whom: the call, why, who acts, dry run. */
export function actionFields(calls: readonly WebhookCallSyntax[]) {
  return {
    call: callRefSchema(calls),
    reason: z.string().max(500).optional().describe('Why; shown in the chat and kept in the audit log.'),
    actor: z.string().min(1).max(100).optional().describe('Name of the system acting, for the audit log and the chat (e.g. "toxicity-classifier").'),
    dryRun: z.boolean().default(false).describe('Resolve and authorize, change nothing (the case records a dry run).'),
  };
}

/** `targets`: several people, each acted on as if named alone. */
function targetsField<T extends z.ZodType>(target: T, doing: string) {
  return z
    .array(target)
    .min(1)
    .max(MAX_BULK_TARGETS)
    .describe(`1 to ${MAX_BULK_TARGETS} people to ${doing}, each with a case and an answer of their own, in this order.`);
}

/** POST /api/moderation/kick request body, one target. */
export function kickRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), target: targetRefSchema }).strict();
}

/** POST /api/moderation/kick request body, several targets (instead of `target`): each is kicked as if sent alone. */
export function bulkKickRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), targets: targetsField(targetRefSchema, 'remove from the call') }).strict();
}

export type KickRequestBody = z.output<ReturnType<typeof kickRequestSchema>>;
export type BulkKickRequestBody = z.output<ReturnType<typeof bulkKickRequestSchema>>;
/** One target as a body names it. */
export type TargetBody = z.output<typeof targetRefSchema>;

/** The longest ban `duration` may ask for, in days (as `/ban` in a chat: MAX_BAN_MS). */
export const MAX_BAN_DAYS = 365;

/** A ban's length: an ISO 8601 duration, from one minute to MAX_BAN_DAYS days. */
export const banDurationSchema = z
  .string()
  .max(40)
  .superRefine((text, ctx) => {
    const parsed = parseIsoDuration(text);
    if ('problem' in parsed) ctx.addIssue({ code: 'custom', message: `${parsed.problem}; at most P${MAX_BAN_DAYS}D (${MAX_BAN_DAYS} days)` });
    else if (parsed.ms < 60_000) ctx.addIssue({ code: 'custom', message: `too short: at least PT1M (one minute), at most P${MAX_BAN_DAYS}D` });
    else if (parsed.ms > MAX_BAN_DAYS * 86_400_000) ctx.addIssue({ code: 'custom', message: `too long: at most P${MAX_BAN_DAYS}D (${MAX_BAN_DAYS} days)` });
  })
  .describe(
    `How long the ban lasts, as an ISO 8601 duration: PT30M, PT2H, P7D, P2W (whole numbers; no years or months), from PT1M to P${MAX_BAN_DAYS}D. ` +
      'Absent: until lifted (POST /api/moderation/unban).',
  );

/** POST /api/moderation/ban: remove the person now, keep them out of the call's chat's calls. */
export function banRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), target: targetRefSchema, duration: banDurationSchema.optional() }).strict();
}

export function bulkBanRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), targets: targetsField(targetRefSchema, 'ban'), duration: banDurationSchema.optional() }).strict();
}

/** Whose ban to lift: bans keep lasting identities (an Entra id, a number, a label), never a call leg. */
export const banTargetSchema = z.union([
  z.object({ userId: z.guid().describe('Entra object id of a Teams user.') }).strict(),
  z
    .object({
      label: z
        .string()
        .min(1)
        .max(LABEL_MAX_LENGTH)
        .refine((l) => labelProblem(l) !== 'slash', { message: 'a Twilio label cannot contain "/"' })
        .describe('Twilio participant label.'),
    })
    .strict(),
  z.object({ phoneNumber: z.string().regex(E164_PATTERN).describe('The caller’s number in E.164, e.g. +15551234567.') }).strict(),
]);

/** POST /api/moderation/unban: a target's active bans, or one ban by the case that made it (as `/unban 42`). */
export function unbanRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z
    .object({
      ...actionFields(calls),
      target: banTargetSchema.optional().describe('Lift the active bans naming this person (give `target` or `caseId`).'),
      caseId: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional().describe('Lift the ban this case made (give `target` or `caseId`).'),
    })
    .strict()
    .superRefine((body, ctx) => {
      if ((body.target === undefined) === (body.caseId === undefined)) {
        ctx.addIssue({ code: 'custom', message: 'name the ban by `target` or by `caseId` (exactly one)' });
      }
    });
}

export function bulkUnbanRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), targets: targetsField(banTargetSchema, 'unban') }).strict();
}

/** POST /api/moderation/mute and /unmute: the kick's body. */
export const muteRequestSchema = kickRequestSchema;
export const bulkMuteRequestSchema = bulkKickRequestSchema;

/** POST /api/moderation/warn: the kick's body; the reason is what the person is told, so it is required. */
export function warnRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), reason: warnReason, target: targetRefSchema }).strict();
}

export function bulkWarnRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z.object({ ...actionFields(calls), reason: warnReason, targets: targetsField(targetRefSchema, 'warn') }).strict();
}

const warnReason = z.string().min(1).max(500).describe('What the person is told, privately (and what the audit log keeps).');

const targetSummarySchema = z
  .object({
    displayName: z.string().optional(),
    userId: z.string().optional(),
    label: z.string().optional(),
    phoneNumber: z.string().optional(),
    participantId: z.string().optional(),
  })
  .strict();

/** 200 response. */
export const kickResultSchema = z
  .object({
    caseId: z.number().int().describe('The audit case number.'),
    outcome: z.enum(['removed', 'already_gone', 'dry_run']),
    callId: z.string(),
    participantIds: z.array(z.string()).describe('Who was (or, in a dry run, would be) removed.'),
    target: targetSummarySchema,
  })
  .strict();

/** The actions of the routes besides the kick's, as their answers name them. */
export const WEBHOOK_PERSON_ACTIONS = ['ban', 'unban', 'mute', 'unmute', 'warn'] as const;
export type WebhookPersonAction = (typeof WEBHOOK_PERSON_ACTIONS)[number];

/** What each action's 200 may say it came to. */
export const ACTION_OUTCOMES = {
  ban: ['banned', 'dry_run'],
  unban: ['unbanned', 'dry_run'],
  mute: ['muted', 'already_gone', 'dry_run'],
  unmute: ['unmuted', 'already_gone', 'dry_run'],
  warn: ['warned', 'already_gone', 'dry_run'],
} as const satisfies Record<WebhookPersonAction, readonly string[]>;

/** 200 response of POST /api/moderation/<action> (ban, unban, mute, unmute, warn). */
export function actionResultSchema(action: WebhookPersonAction) {
  const base = {
    caseId: z.number().int().describe('The audit case number.'),
    action: z.literal(action),
    outcome: z.enum(ACTION_OUTCOMES[action]),
    target: targetSummarySchema,
  };
  switch (action) {
    case 'ban':
      return z
        .object({
          ...base,
          callId: z.string().optional().describe('The call the person was removed from (absent: there was no call to look in).'),
          participantIds: z.array(z.string()).describe('Who was (or, in a dry run, would be) removed now; empty when they were not in the call.'),
          removed: z.boolean().optional().describe('Whether they were removed from the call now (banned).'),
          expiresAt: z.string().optional().describe('ISO 8601: when the ban ends; absent: until lifted.'),
          notice: z.enum(['sent', 'failed']).optional().describe('The notice telling them why, sent just before the removal (NOTIFY_REMOVED).'),
        })
        .strict();
    case 'unban':
      return z
        .object({
          ...base,
          banCaseIds: z.array(z.number().int()).describe('The cases whose bans were (or, in a dry run, would be) lifted; empty: there was no active ban.'),
        })
        .strict();
    case 'mute':
    case 'unmute':
    case 'warn':
      return z
        .object({
          ...base,
          callId: z.string(),
          participantIds: z.array(z.string()).describe('The participants acted on (or, in a dry run, that would be); empty when they had left.'),
        })
        .strict();
  }
}

/** 200 response of a bulk request to POST /api/moderation/<action>: one entry per target. */
export function bulkActionResultSchema(action: WebhookPersonAction) {
  return z
    .object({
      results: z
        .array(z.union([actionResultSchema(action), kickAcceptedSchema, problemSchema]))
        .describe('One entry per target, in order: a result, `{caseId, status: "pending"}` for one still running, or a problem.'),
    })
    .strict();
}

/** 202 response (and a bulk entry still running): the removal goes on; its case tells how it ends. */
export const kickAcceptedSchema = z
  .object({
    caseId: z.number().int().describe('The audit case: GET /api/moderation/cases/{caseId} follows it.'),
    status: z.literal('pending'),
  })
  .strict();

/** GET /api/moderation/cases/{caseId}: a case as the API shows it (no internal details). */
export function caseViewSchema(calls: readonly WebhookCallSyntax[]) {
  return z
    .object({
      caseId: z.number().int(),
      status: z.enum(['pending', 'completed']).describe('pending: the change is still running (or was cut off; it is reconciled within minutes).'),
      action: z.enum(MODERATION_ACTIONS),
      source: z.enum(REQUEST_SOURCES).describe('Where the request came from: a chat command, a card button or this API.'),
      outcome: z
        .enum(OUTCOME_KINDS)
        .optional()
        .describe('What it came to, once completed: removed, already_gone, dry_run, denied, target_not_found, upstream_failed, interrupted, …'),
      retryable: z.boolean().optional().describe('For a failure: whether sending the request again (even with the same webhook-id) may succeed.'),
      call: callRefSchema(calls).optional().describe('The call as the request named it: the chat, or the call or conference named directly.'),
      callId: z.string().optional().describe('The backend’s id of the call, once resolved.'),
      target: z
        .object({ name: z.string().optional(), userId: z.string().optional() })
        .strict()
        .optional()
        .describe('Who the case is about, as far as it is known: a name (display name, label or number) and an Entra object id.'),
      participantIds: z.array(z.string()).describe('The participants acted on (or, for a dry run, that would be).'),
      reason: z.string().optional(),
      createdAt: z.string().describe('ISO 8601.'),
      completedAt: z.string().optional().describe('ISO 8601, once completed.'),
    })
    .strict();
}

export type CaseView = z.output<ReturnType<typeof caseViewSchema>>;

/** RFC 9457 problem details, with Bouncer's extension members. */
export const problemSchema = z
  .object({
    type: z.string().describe('A stable URN per kind of problem, e.g. urn:bouncer:problem:target-not-found.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    caseId: z.number().int().optional().describe('The audit case, when the request got that far.'),
    retryable: z.boolean().optional().describe('Whether sending the same request again later may succeed.'),
    reason: z.string().optional(),
    candidates: z.array(targetSummarySchema).optional().describe('Participants an ambiguous target matched.'),
    errors: z.array(z.object({ path: z.string(), message: z.string() }).strict()).optional().describe('What is wrong with an invalid body.'),
  })
  .strict();

export type Problem = z.infer<typeof problemSchema>;

/** 200 response to a bulk kick: one entry per target, in the request's order. */
export const bulkKickResultSchema = z
  .object({
    results: z
      .array(z.union([kickResultSchema, kickAcceptedSchema, problemSchema]))
      .describe(
        'One entry per target, in order: a result (as a single kick’s 200 body), `{caseId, status: "pending"}` for a removal ' +
          'still running after WEBHOOK_SYNC_WAIT_MS (follow its case), or a problem (as a single kick’s problem body).',
      ),
  })
  .strict();
