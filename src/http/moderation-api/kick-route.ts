import { createHash } from 'node:crypto';
import type { Request, Response } from 'restify';
import type { KickRequest, ModerationService, TargetRef, CallRef } from '../../core/moderation-service.js';
import type { Outcome } from '../../core/outcome.js';
import type { ChatDirectory, Clock, Logger, Store, StoredResponse } from '../../core/ports.js';
import { outcomeResponse, problem, PROBLEM_CONTENT_TYPE } from './problems.js';
import { kickRequestSchema, type KickRequestBody } from './schemas.js';
import { verifyStandardWebhook } from './standard-webhooks.js';

/** Idempotency keys are kept at least this long (the API promises 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

/** Webhook requests come from no chat: there is nobody to look up and no meeting role. */
const NO_CHAT: ChatDirectory = {
  getUser: async () => undefined,
  getActorMeetingRole: async () => 'unknown',
  getMeeting: async () => undefined,
};

export interface KickRouteDeps {
  service: ModerationService;
  store: Store;
  secrets: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Tells the chat bound to the call about a removal a system made. */
  onRemoved?: (outcome: Extract<Outcome, { kind: 'removed' }>, body: KickRequestBody) => void;
  /** How long a duplicate delivery waits for the first one to finish. */
  waitForPendingMs?: number;
}

/**
 * POST /api/moderation/kick: authenticate (Standard Webhooks) → content type → idempotency →
 * parse (zod) → execute → answer (200 or problem+json). Nothing about the secret is revealed.
 */
export function moderationKickRoute(deps: KickRouteDeps) {
  const waitMs = deps.waitForPendingMs ?? 15_000;
  return async (req: Request, res: Response): Promise<void> => {
    const raw = rawBody(req);
    const webhookId = req.header('webhook-id') || undefined;
    const authentic = verifyStandardWebhook(
      { id: webhookId, timestamp: req.header('webhook-timestamp') || undefined, signature: req.header('webhook-signature') || undefined, body: raw },
      deps.secrets,
      Math.floor(deps.clock.now().getTime() / 1000),
    );
    if (!authentic || !webhookId) {
      deps.logger.warn({ ip: req.socket.remoteAddress, webhookId }, 'rejected unsigned moderation request');
      return send(res, { status: 401, body: problem('unauthorized') });
    }
    if (!/^application\/json$/i.test(req.contentType() ?? '')) {
      return send(res, { status: 415, body: problem('unsupported-media-type') });
    }

    const key = req.header('idempotency-key') || webhookId;
    const hash = createHash('sha256').update(raw).digest('hex');
    const now = deps.clock.now();
    const existing = await deps.store.claimIdempotencyKey(key, hash, now.toISOString(), new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString());
    if (existing) {
      if (existing.requestHash !== hash) return send(res, { status: 422, body: problem('idempotency-key-reused') });
      const done = existing.response ?? (await waitForResponse(deps.store, key, waitMs));
      if (!done) return send(res, { status: 409, body: problem('request-in-progress', { retryable: true }) });
      res.header('idempotent-replayed', 'true');
      return send(res, done);
    }

    try {
      const response = await handle(deps, key, raw);
      await deps.store.completeIdempotencyKey(key, response.stored);
      send(res, response.stored);
      response.after?.();
    } catch (err) {
      // Nothing stored: a retry with the same key may run again.
      await deps.store.releaseIdempotencyKey(key);
      throw err;
    }
  };
}

async function handle(deps: KickRouteDeps, key: string, raw: Buffer): Promise<{ stored: StoredResponse; after?: () => void }> {
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    return { stored: { status: 400, body: problem('invalid-body', { detail: 'The body is not JSON.' }) } };
  }
  const parsed = kickRequestSchema.safeParse(json);
  if (!parsed.success) {
    const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }));
    return { stored: { status: 400, body: problem('invalid-body', { errors }) } };
  }
  const body = parsed.data;
  const request: KickRequest = {
    action: 'kick',
    source: 'webhook',
    requestId: key,
    conversationId: 'conversationId' in body.call ? body.call.conversationId : undefined,
    actor: { displayName: body.actor ?? 'webhook' },
    target: toTarget(body.target),
    call: toCall(body.call),
    reason: body.reason,
    dryRun: body.dryRun,
  };
  const outcome = await deps.service.execute(request, NO_CHAT);
  deps.logger.info({ requestId: key, outcome: outcome.kind, caseId: outcome.caseId }, 'webhook kick');
  const removed = outcome.kind === 'removed' ? outcome : undefined;
  return { stored: outcomeResponse(outcome), after: removed && deps.onRemoved ? () => deps.onRemoved!(removed, body) : undefined };
}

function toTarget(t: KickRequestBody['target']): TargetRef {
  if ('userId' in t) return { kind: 'user', userId: t.userId.toLowerCase() };
  if ('participantId' in t) return { kind: 'participant', participantId: t.participantId };
  if ('callSid' in t) return { kind: 'participant', participantId: `CA${t.callSid.slice(2).toLowerCase()}` };
  if ('label' in t) return { kind: 'label', label: t.label };
  return { kind: 'phone', number: t.phoneNumber };
}

function toCall(c: KickRequestBody['call']): CallRef {
  if ('conversationId' in c) return { kind: 'conversation', conversationId: c.conversationId };
  if ('teamsCallId' in c) return { kind: 'teams_call', callId: c.teamsCallId };
  return { kind: 'twilio_conference', sidOrName: c.twilioConference };
}

async function waitForResponse(store: Store, key: string, waitMs: number): Promise<StoredResponse | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const record = await store.getIdempotencyKey(key);
    if (!record) return undefined; // the first attempt failed and gave the key up
    if (record.response) return record.response;
  }
  return undefined;
}

function rawBody(req: Request): Buffer {
  const body: unknown = req.body;
  if (Buffer.isBuffer(body)) return body;
  return Buffer.from(typeof body === 'string' ? body : '', 'utf8');
}

function send(res: Response, r: StoredResponse): void {
  const isProblem = r.status >= 400;
  const text = JSON.stringify(r.body);
  res.writeHead(r.status, {
    'content-type': isProblem ? PROBLEM_CONTENT_TYPE : 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
