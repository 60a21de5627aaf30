import { z } from 'zod';
import { CALL_SID_PATTERN, E164_PATTERN, LABEL_MAX_LENGTH, labelProblem } from '../../app/domain/ids.js';

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

/** POST /api/moderation/kick request body. */
export function kickRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z
    .object({
      call: callRefSchema(calls),
      target: targetRefSchema,
      reason: z.string().max(500).optional().describe('Why; shown in the chat and kept in the audit log.'),
      actor: z.string().min(1).max(100).optional().describe('Name of the system acting, for the audit log and the chat (e.g. "toxicity-classifier").'),
      dryRun: z.boolean().default(false).describe('Resolve and authorize, remove nobody.'),
    })
    .strict();
}

export type KickRequestBody = z.output<ReturnType<typeof kickRequestSchema>>;

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
