import { z } from 'zod';
import { authorityOf, decide } from '../../app/moderation/policy.js';
import type { CallRef, WebhookSecret } from '../../app/moderation/requests.js';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { AuditCase, CaseStore } from '../../app/ports/store.js';
import type { HttpAnswer, HttpInput, RawRoute } from '../../http/route.js';
import { problem } from './problems.js';
import type { CaseView, WebhookCallSyntax } from './schemas.js';
import { verifyStandardWebhook } from './standard-webhooks.js';

export interface CaseRouteDeps {
  cases: CaseStore;
  /** How each provider names its calls in a body (a case's call is shown that way). */
  calls: readonly WebhookCallSyntax[];
  /** WEBHOOK_SECRETS: each secret, and the calls it may read cases of. */
  secrets: readonly WebhookSecret[];
  clock: Clock;
  logger: Logger;
}

/** The call a webhook named, as its case keeps it (CaseRecorder: `detail.call`). */
const keptCallSchema = z.union([
  z.object({ kind: z.literal('conversation'), conversationId: z.string() }),
  z.object({ kind: z.literal('call'), provider: z.string(), idOrName: z.string() }),
]);

/**
 * GET /api/moderation/cases/{caseId}: a case, for the system that asked for it (a 202's
 * Location) or any other it concerns. Signed like every moderation request (Standard Webhooks, over
 * an empty body). Whether the signing secret may read the case is the policy's `moderate_call`
 * question about the case's call, as the request named it (a chat's case: its chat): a scoped
 * secret reads cases of its calls only. An unknown case and a refused one get the same 404, so
 * case numbers cannot be probed.
 */
export function moderationCaseRoute(deps: CaseRouteDeps): RawRoute {
  const secrets = deps.secrets.map((s) => s.secret);

  const handle = async (input: HttpInput): Promise<HttpAnswer> => {
    const webhookId = input.header('webhook-id') || undefined;
    const secretIndex = verifyStandardWebhook(
      { id: webhookId, timestamp: input.header('webhook-timestamp') || undefined, signature: input.header('webhook-signature') || undefined, body: input.body },
      secrets,
      Math.floor(deps.clock.now().getTime() / 1000),
    );
    if (secretIndex === undefined) {
      deps.logger.warn({ ip: input.remoteAddress, webhookId }, 'rejected unsigned case request');
      return answer(problem('unauthorized'));
    }
    const raw = input.params?.caseId ?? '';
    const found = /^[1-9][0-9]{0,14}$/.test(raw) ? await deps.cases.get(Number(raw)) : undefined;
    // A system's authority comes from its credential alone (no chat, no role, no admin list).
    const authority = authorityOf(
      { kind: 'system', displayName: 'webhook', credential: { scheme: 'standard-webhooks', secretIndex, scope: deps.secrets[secretIndex]?.scope } },
      'unknown',
      { adminUserIds: new Set(), moderatorRoles: new Set() },
    );
    const call = found && callOf(found, deps.calls);
    if (!found || !decide({ kind: 'moderate_call', authority, call }).allowed) {
      deps.logger.info({ webhookId, secretIndex, caseId: raw.slice(0, 20), found: !!found }, 'case not shown');
      return answer(problem('case-not-found'));
    }
    return { status: 200, body: view(found, call, deps.calls) };
  };

  return { kind: 'raw', method: 'GET', path: '/api/moderation/cases/:caseId', maxBodyBytes: 0, handle };
}

/** The call a case was about, as its request named it: the call a webhook named, else the chat. */
function callOf(c: AuditCase, calls: readonly WebhookCallSyntax[]): CallRef | undefined {
  const kept = keptCallSchema.safeParse(c.detail.call);
  if (kept.success) {
    const ref = kept.data;
    if (ref.kind === 'conversation' || calls.some((s) => s.provider === ref.provider)) return ref;
  }
  return c.conversationId === undefined ? undefined : { kind: 'conversation', conversationId: c.conversationId };
}

/** A case as the API shows it: never its internal details (upstream messages, idempotency keys, who in the chat asked). */
function view(c: AuditCase, call: CallRef | undefined, calls: readonly WebhookCallSyntax[]): CaseView {
  const named = call && (call.kind === 'conversation' ? { conversationId: call.conversationId } : namedCall(call, calls));
  const retryable = retryableOf(c);
  return {
    caseId: c.id,
    status: c.status,
    action: c.action,
    source: c.source,
    ...(c.outcome ? { outcome: c.outcome } : {}),
    ...(retryable !== undefined ? { retryable } : {}),
    ...(named ? { call: named } : {}),
    ...(c.callId ? { callId: c.callId } : {}),
    ...(c.targetName || c.targetUserId ? { target: { ...(c.targetName ? { name: c.targetName } : {}), ...(c.targetUserId ? { userId: c.targetUserId } : {}) } } : {}),
    participantIds: c.participantIds,
    ...(c.reason ? { reason: c.reason } : {}),
    createdAt: c.createdAt,
    ...(c.completedAt ? { completedAt: c.completedAt } : {}),
  };
}

function namedCall(call: Extract<CallRef, { kind: 'call' }>, calls: readonly WebhookCallSyntax[]): Record<string, string> | undefined {
  const syntax = calls.find((s) => s.provider === call.provider);
  return syntax && { [syntax.field]: call.idOrName };
}

/** For a completed failure, whether the same request may succeed later (as its answer said); undefined otherwise. */
function retryableOf(c: AuditCase): boolean | undefined {
  switch (c.outcome) {
    case 'upstream_failed':
      return c.detail.retryable === true;
    case 'interrupted':
      return true;
    case 'not_bound':
      return c.detail.reason === 'join_timeout';
    case 'ambiguous_target':
    case 'unsupported':
    case 'denied':
    case 'target_not_found':
    case 'not_configured':
    case 'case_not_found':
      return false;
    case undefined:
    case 'removed':
    case 'muted':
    case 'unmuted':
    case 'warned':
    case 'not_reachable':
    case 'already_gone':
    case 'dry_run':
    case 'bound':
    case 'unbound':
    case 'moderator_added':
    case 'moderator_removed':
    case 'banned':
    case 'unbanned':
    case 'reason_edited':
    case 'modlog_set':
    case 'locked':
    case 'unlocked':
      return undefined;
  }
}

function answer(p: { status: number }): HttpAnswer {
  return { status: p.status, body: p };
}
