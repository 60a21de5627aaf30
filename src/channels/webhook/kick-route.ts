import type { CommandRegistry } from '../../app/commands/command.js';
import type { KickArgs } from '../../app/commands/kick.js';
import { runCommand } from '../../app/commands/run-command.js';
import { BouncerError } from '../../app/domain/errors.js';
import type { Outcome } from '../../app/domain/outcome.js';
import type { Moderation } from '../../app/moderation/moderation.js';
import type { CallRef, TargetRef } from '../../app/moderation/requests.js';
import { NO_CHAT } from '../../app/ports/chat-directory.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import { normalizeSid } from '../../app/domain/ids.js';
import { idempotent, type IdempotentResult } from './idempotency.js';
import { outcomeResponse, problem } from './problems.js';
import { kickRequestSchema, type KickRequestBody, type WebhookCallSyntax } from './schemas.js';
import { verifyStandardWebhook } from './standard-webhooks.js';

export interface KickRouteDeps {
  moderation: Moderation;
  commands: CommandRegistry;
  idempotency: IdempotencyStore;
  /** How each provider names its calls in the body. */
  calls: readonly WebhookCallSyntax[];
  secrets: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Tells the chat bound to the call about a removal a system made. */
  onRemoved?: (outcome: Extract<Outcome, { kind: 'removed' }>, body: KickRequestBody) => void;
  /** How long a duplicate delivery waits for the first one to finish. */
  waitForPendingMs?: number;
}

const MAX_BODY_BYTES = 16 * 1024;

/**
 * POST /api/moderation/kick: authenticate (Standard Webhooks) → content type → idempotency →
 * parse (zod) → the kick command, through the command runner → answer (200 or problem+json).
 * The caller's authority comes from the secret that signed it. Nothing about the secret is revealed.
 */
export function moderationKickRoute(deps: KickRouteDeps): RawRoute {
  const schema = kickRequestSchema(deps.calls);
  const kick = deps.commands.find((c) => c.name === 'kick');
  if (!kick) throw new BouncerError('INTERNAL', 'no kick command is registered');

  const handle = async (input: HttpInput): Promise<HttpAnswer> => {
    const webhookId = input.header('webhook-id') || undefined;
    const secretIndex = verifyStandardWebhook(
      { id: webhookId, timestamp: input.header('webhook-timestamp') || undefined, signature: input.header('webhook-signature') || undefined, body: input.body },
      deps.secrets,
      Math.floor(deps.clock.now().getTime() / 1000),
    );
    if (secretIndex === undefined || !webhookId) {
      deps.logger.warn({ ip: input.remoteAddress, webhookId }, 'rejected unsigned moderation request');
      return respond(problem('unauthorized'));
    }
    if (!/^application\/json$/i.test(input.contentType ?? '')) return respond(problem('unsupported-media-type'));

    const key = input.header('idempotency-key') || webhookId;
    const once = idempotent({ store: deps.idempotency, clock: deps.clock, waitForPendingMs: deps.waitForPendingMs }, () =>
      act(input.body, key, secretIndex),
    );
    const answer = await once(key, input.body);
    return { status: answer.status, body: answer.body, headers: answer.replayed ? { 'idempotent-replayed': 'true' } : undefined };
  };

  const act = async (raw: Buffer, key: string, secretIndex: number): Promise<IdempotentResult> => {
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      return { stored: respond(problem('invalid-body', { detail: 'The body is not JSON.' })) };
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
      return { stored: respond(problem('invalid-body', { errors })) };
    }
    const body = parsed.data;
    const call = toCall(body.call as Record<string, string>, deps.calls);
    const scope = deps.moderation.scope(
      {
        source: 'webhook',
        requestId: key,
        conversationId: call.kind === 'conversation' ? call.conversationId : undefined,
        actor: { kind: 'system', displayName: body.actor ?? 'webhook', credential: { scheme: 'standard-webhooks', secretIndex } },
      },
      NO_CHAT,
    );
    const args: KickArgs = { target: toTarget(body.target), call, reason: body.reason, dryRun: body.dryRun };
    const result = await runCommand({ command: kick, args }, { moderation: deps.moderation, scope }, deps.commands);
    if (result.type !== 'outcome') throw new BouncerError('INTERNAL', `the kick command answered ${result.type}`);
    const outcome = result.outcome;
    deps.logger.info({ requestId: key, outcome: outcome.kind, caseId: outcome.caseId, secretIndex }, 'webhook kick');
    const removed = outcome.kind === 'removed' ? outcome : undefined;
    const onRemoved = deps.onRemoved;
    return { stored: outcomeResponse(outcome), after: removed && onRemoved ? () => onRemoved(removed, body) : undefined };
  };

  return { kind: 'raw', method: 'POST', path: '/api/moderation/kick', maxBodyBytes: MAX_BODY_BYTES, handle };
}

function respond(p: { status: number }): StoredResponse {
  return { status: p.status, body: p };
}

function toTarget(t: KickRequestBody['target']): TargetRef {
  if ('userId' in t) return { kind: 'user', userId: t.userId.toLowerCase() };
  if ('participantId' in t) return { kind: 'participant', participantId: t.participantId };
  if ('callSid' in t) return { kind: 'participant', participantId: normalizeSid(t.callSid) };
  if ('label' in t) return { kind: 'label', label: t.label };
  return { kind: 'phone', number: t.phoneNumber };
}

function toCall(c: Record<string, string>, calls: readonly WebhookCallSyntax[]): CallRef {
  const conversationId = c.conversationId;
  if (conversationId !== undefined) return { kind: 'conversation', conversationId };
  for (const syntax of calls) {
    const idOrName = c[syntax.field];
    if (idOrName !== undefined) return { kind: 'call', provider: syntax.provider, idOrName };
  }
  throw new BouncerError('INTERNAL', 'a call reference passed the schema but names no known call');
}
