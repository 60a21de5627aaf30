import { z } from 'zod';
import { defineCommand } from '../../app/commands/command.js';
import { runCommand } from '../../app/commands/run-command.js';
import { BouncerError } from '../../app/domain/errors.js';
import type { CallRef, LockdownRequest } from '../../app/moderation/requests.js';
import { CaseRecorder } from '../../app/moderation/steps/audit.js';
import { NO_CHAT } from '../../app/ports/chat-directory.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import { idempotent, type IdempotencyDeps, type IdempotentResult } from './idempotency.js';
import { final, isRetryableProblem, parseJson, signedMessage, toCall, validate, webhookActor, type ActionRouteDeps } from './action-route.js';
import { outcomeResponse, problem } from './problems.js';
import { callRefSchema, type WebhookCallSyntax } from './schemas.js';

export const LOCKDOWN_PATH = '/api/moderation/lockdown';
const MAX_BODY_BYTES = 16 * 1024;

/** POST /api/moderation/lockdown request body. */
export function lockdownRequestSchema(calls: readonly WebhookCallSyntax[]) {
  return z
    .object({
      call: callRefSchema(calls),
      enabled: z.boolean().describe('true: lock the call down; false: end its lockdown, restoring what it changed.'),
      chat: z.boolean().default(false).describe('Teams: turn the meeting chat off too (only with enabled: true).'),
      mute: z.boolean().default(false).describe('Twilio: mute every caller who does not moderate (only with enabled: true).'),
      actor: z.string().min(1).max(100).optional().describe('Name of the system acting, for the audit log (e.g. "raid-detector").'),
    })
    .strict()
    .refine((b) => b.enabled || (!b.chat && !b.mute), { message: 'chat and mute go with enabled: true', path: ['enabled'] });
}

/** 200 response: the lockdown's case and what it came to. */
export const lockdownResultSchema = z
  .object({
    caseId: z.number().int().describe('The audit case number.'),
    outcome: z.enum(['locked', 'unlocked']),
    callId: z.string(),
    already: z.boolean().optional().describe('locked: the call was locked down before; what it saved then is kept.'),
    chat: z.boolean().optional().describe('locked: meeting chat is off too (Teams).'),
    mute: z.boolean().optional().describe('locked: callers who do not moderate were muted (Twilio).'),
    muted: z.array(z.string()).optional().describe('locked: the participants muted now.'),
    wasLocked: z.boolean().optional().describe('unlocked: false when the call was not locked down (nothing changed).'),
  })
  .strict();

/** What the lockdown route needs: the action routes' dependencies, but the 202 wait and the labels. */
export type LockdownRouteDeps = Pick<
  ActionRouteDeps,
  'moderation' | 'commands' | 'idempotency' | 'calls' | 'secrets' | 'clock' | 'logger' | 'background' | 'waitForPendingMs'
>;

interface LockdownArgs {
  call: CallRef;
  enabled: boolean;
  chat: boolean;
  mute: boolean;
}

/**
 * POST /api/moderation/lockdown: `{call, enabled, chat?, mute?}`, as the kick route takes a kick:
 * Standard Webhooks signature (the secret's authority and scope) → content type → idempotency on
 * the signed webhook-id (and an Idempotency-Key) → zod → the lockdown action through the command
 * runner (the policy's `lockdown` question, asked about the call the body names) → 200 with the
 * result, or problem+json. A lockdown is answered when it is done (one or two Graph requests).
 */
export function moderationLockdownRoute(deps: LockdownRouteDeps): RawRoute {
  const schema = lockdownRequestSchema(deps.calls);
  const secrets = deps.secrets.map((s) => s.secret);
  const idem: IdempotencyDeps = { store: deps.idempotency, clock: deps.clock, waitForPendingMs: deps.waitForPendingMs, background: deps.background, logger: deps.logger };
  const request = (args: LockdownArgs, base: { source: 'webhook'; requestId: string; conversationId?: string; actor: LockdownRequest['actor']; idempotencyKeys: readonly string[] }): LockdownRequest => ({
    ...base,
    action: args.enabled ? 'lockdown' : 'unlock',
    call: args.call,
    ...(args.enabled ? { chat: args.chat, mute: args.mute } : {}),
  });
  // The webhook's own command: the call is the body's, never a chat's binding.
  const command = defineCommand<LockdownArgs>({
    name: 'lockdown',
    usage: LOCKDOWN_PATH,
    summary: 'Lock a call down, or end its lockdown.',
    permission: 'moderator',
    parse: () => ({ ok: false, problem: { kind: 'empty' } }),
    question: (args, _ctx, authority) => ({ kind: 'lockdown', authority, call: args.call }),
    async refuse(args, ctx, refusal) {
      const req = request(args, { ...base(ctx.scope.request), idempotencyKeys: ctx.scope.request.idempotencyKeys ?? [] });
      return { type: 'outcome', outcome: await new CaseRecorder(ctx.moderation.deps, req, req.action).record(refusal) };
    },
    async run(args, ctx) {
      const req = request(args, { ...base(ctx.scope.request), idempotencyKeys: ctx.scope.request.idempotencyKeys ?? [] });
      return { type: 'outcome', outcome: await ctx.moderation.execute(req, ctx.scope) };
    },
  });

  const handle = async (input: HttpInput): Promise<HttpAnswer> => {
    const signed = signedMessage(input, secrets, deps, LOCKDOWN_PATH);
    if ('refused' in signed) return signed.refused;
    const { secretIndex, keys, requestId } = signed;
    const result = await idempotent(idem, async (): Promise<IdempotentResult> => {
      const json = parseJson(input.body);
      if (!json.ok) return final(problem('invalid-body', { detail: 'The body is not JSON.' }));
      const parsed = validate(schema, json.value);
      if ('invalid' in parsed) return final(parsed.invalid);
      const body = parsed.body;
      const call = toCall(body.call as Record<string, string>, deps.calls);
      const scope = deps.moderation.scope(
        {
          source: 'webhook',
          requestId,
          conversationId: call.kind === 'conversation' ? call.conversationId : undefined,
          actor: webhookActor(body.actor, secretIndex, deps.secrets),
          idempotencyKeys: keys,
        },
        NO_CHAT,
      );
      const args: LockdownArgs = { call, enabled: body.enabled, chat: body.chat, mute: body.mute };
      const done = await runCommand({ command, args }, { moderation: deps.moderation, scope }, deps.commands);
      if (done.type !== 'outcome') throw new BouncerError('INTERNAL', `the lockdown command answered ${done.type}`);
      const outcome = done.outcome;
      deps.logger.info({ requestId, outcome: outcome.kind, caseId: outcome.caseId, secretIndex }, 'webhook lockdown');
      const stored = outcomeResponse(outcome);
      return { stored, retryable: isRetryableProblem(stored) };
    })(keys, input.body);
    const headers: Record<string, string> = result.replayed ? { 'idempotent-replayed': 'true' } : {};
    return { status: result.status, body: result.body, headers };
  };

  return { kind: 'raw', method: 'POST', path: LOCKDOWN_PATH, maxBodyBytes: MAX_BODY_BYTES, handle };
}

function base(r: { requestId: string; conversationId?: string; actor: LockdownRequest['actor'] }): { source: 'webhook'; requestId: string; conversationId?: string; actor: LockdownRequest['actor'] } {
  return { source: 'webhook', requestId: r.requestId, conversationId: r.conversationId, actor: r.actor };
}
