import type { CommandRegistry } from '../../app/commands/command.js';
import type { KickArgs } from '../../app/commands/kick.js';
import { runCommand } from '../../app/commands/run-command.js';
import { BouncerError } from '../../app/domain/errors.js';
import type { Outcome } from '../../app/domain/outcome.js';
import type { Moderation } from '../../app/moderation/moderation.js';
import type { CallRef, TargetRef, WebhookSecret } from '../../app/moderation/requests.js';
import { NO_CHAT } from '../../app/ports/chat-directory.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import { normalizeSid } from '../../app/domain/ids.js';
import { idempotent, webhookIdempotencyKeys, type IdempotentResult } from './idempotency.js';
import { outcomeResponse, problem } from './problems.js';
import { kickRequestSchema, type KickRequestBody, type WebhookCallSyntax } from './schemas.js';
import { verifyStandardWebhook } from './standard-webhooks.js';

export interface KickRouteDeps {
  moderation: Moderation;
  commands: CommandRegistry;
  idempotency: IdempotencyStore;
  /** How each provider names its calls in the body. */
  calls: readonly WebhookCallSyntax[];
  /** WEBHOOK_SECRETS: each secret, and the calls it may act on. */
  secrets: readonly WebhookSecret[];
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
  const found = deps.commands.find((c) => c.name === 'kick');
  if (!found) throw new BouncerError('INTERNAL', 'no kick command is registered');
  // A webhook's permission is asked about the call it names: the signing secret's scope must name it.
  const kick: typeof found = { ...found, question: (args, _ctx, authority) => ({ kind: 'moderate_call', authority, call: (args as KickArgs).call }) };
  const secrets = deps.secrets.map((s) => s.secret);

  const handle = async (input: HttpInput): Promise<HttpAnswer> => {
    const webhookId = input.header('webhook-id') || undefined;
    const secretIndex = verifyStandardWebhook(
      { id: webhookId, timestamp: input.header('webhook-timestamp') || undefined, signature: input.header('webhook-signature') || undefined, body: input.body },
      secrets,
      Math.floor(deps.clock.now().getTime() / 1000),
    );
    if (secretIndex === undefined || !webhookId) {
      deps.logger.warn({ ip: input.remoteAddress, webhookId }, 'rejected unsigned moderation request');
      return respond(problem('unauthorized'));
    }
    if (!/^application\/json$/i.test(input.contentType ?? '')) return respond(problem('unsupported-media-type'));

    // Deduplicated on the signed webhook-id always; an Idempotency-Key (not signed) only adds a
    // second key, so a captured request resent with a new one gets the first answer, not a second run.
    const idempotencyKey = input.header('idempotency-key') || undefined;
    const requestId = idempotencyKey ?? webhookId;
    const once = idempotent({ store: deps.idempotency, clock: deps.clock, waitForPendingMs: deps.waitForPendingMs }, () =>
      act(input.body, requestId, secretIndex),
    );
    const answer = await once(webhookIdempotencyKeys(webhookId, idempotencyKey), input.body);
    return { status: answer.status, body: answer.body, headers: answer.replayed ? { 'idempotent-replayed': 'true' } : undefined };
  };

  const act = async (raw: Buffer, requestId: string, secretIndex: number): Promise<IdempotentResult> => {
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
    const illFormed = illFormedStrings(parsed.data);
    if (illFormed.length > 0) {
      // JSON can escape a lone surrogate; no id, label or name holds one, and encoding it for an
      // upstream URL would throw.
      return { stored: respond(problem('invalid-body', { errors: illFormed.map((path) => ({ path, message: 'not well-formed Unicode (a lone surrogate)' })) })) };
    }
    const body = parsed.data;
    const call = toCall(body.call as Record<string, string>, deps.calls);
    const scope = deps.moderation.scope(
      {
        source: 'webhook',
        requestId,
        conversationId: call.kind === 'conversation' ? call.conversationId : undefined,
        actor: { kind: 'system', displayName: body.actor ?? 'webhook', credential: { scheme: 'standard-webhooks', secretIndex, scope: deps.secrets[secretIndex]?.scope } },
      },
      NO_CHAT,
    );
    const args: KickArgs = { target: toTarget(body.target), call, reason: body.reason, dryRun: body.dryRun };
    const result = await runCommand({ command: kick, args }, { moderation: deps.moderation, scope }, deps.commands);
    if (result.type !== 'outcome') throw new BouncerError('INTERNAL', `the kick command answered ${result.type}`);
    const outcome = result.outcome;
    deps.logger.info({ requestId, outcome: outcome.kind, caseId: outcome.caseId, secretIndex }, 'webhook kick');
    const removed = outcome.kind === 'removed' ? outcome : undefined;
    const onRemoved = deps.onRemoved;
    return { stored: outcomeResponse(outcome), after: removed && onRemoved ? () => onRemoved(removed, body) : undefined };
  };

  return { kind: 'raw', method: 'POST', path: '/api/moderation/kick', maxBodyBytes: MAX_BODY_BYTES, handle };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Paths of the strings in a parsed body (a few levels deep, as the schema allows) that are not well-formed UTF-16. */
function illFormedStrings(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? [path || '(body)'] : [];
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, v]) => illFormedStrings(v, path ? `${path}.${key}` : key));
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
