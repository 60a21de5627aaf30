import type { Outcome } from '../../app/domain/outcome.js';
import type { ProviderLabels } from '../../app/domain/provider-labels.js';
import { unreachable } from '../../app/domain/unreachable.js';
import type { Problem, WebhookPersonAction } from './schemas.js';

/** Every problem type the moderation API answers with: status and title. Documented in the OpenAPI file. */
export const PROBLEM_TYPES = {
  'invalid-body': { status: 400, title: 'The request body is invalid' },
  unauthorized: { status: 401, title: 'The request is not signed with a valid secret' },
  'not-authorized': { status: 403, title: 'The request is not allowed' },
  'target-not-found': { status: 404, title: 'The target is not in the call' },
  'case-not-found': { status: 404, title: 'No such case' },
  'conference-not-found': { status: 404, title: 'No such call or conference' },
  'not-reachable': { status: 409, title: 'The person cannot be notified privately' },
  'ambiguous-target': { status: 409, title: 'The target matches several participants' },
  'not-bound': { status: 409, title: 'There is no live call to act on' },
  'request-in-progress': { status: 409, title: 'A request with this idempotency key is still being processed' },
  'payload-too-large': { status: 413, title: 'The request body is too large' },
  'unsupported-media-type': { status: 415, title: 'The body must be application/json' },
  'idempotency-key-reused': { status: 422, title: 'This idempotency key was used with a different body' },
  'unsupported': { status: 501, title: 'The backend cannot do that' },
  'upstream-failure': { status: 502, title: 'The calling service failed' },
  'not-configured': { status: 503, title: 'Bouncer is not configured for this kind of call' },
} as const;

export type ProblemType = keyof typeof PROBLEM_TYPES;

export function problem(type: ProblemType, extra: Omit<Partial<Problem>, 'type' | 'title'> = {}): Problem {
  const { status, title } = PROBLEM_TYPES[type];
  return { type: `urn:bouncer:problem:${type}`, title, status, ...extra };
}

/** How a provider's calls are named in a problem's detail (the provider modules' labels). */
export type LabelsOf = (kind: string) => Pick<ProviderLabels, 'calls'>;

/**
 * Outcome → HTTP status and body, for the route of `action` (the kick's by default). Successes are
 * 200 with the result (a kick's as it always was; the other actions' name their action and carry
 * what is theirs: a ban's end, the bans an unban lifted); everything else a problem.
 */
export function outcomeResponse(o: Outcome, action: 'kick' | WebhookPersonAction = 'kick', labels?: LabelsOf): { status: number; body: unknown } {
  const internal = () => respond({ type: 'about:blank', title: 'Internal error', status: 500 });
  switch (o.kind) {
    case 'removed':
    case 'already_gone':
    case 'dry_run': {
      const participantIds = o.kind === 'already_gone' ? [] : o.participantIds;
      if (action === 'kick') return { status: 200, body: { caseId: o.caseId, outcome: o.kind, callId: o.callId, participantIds, target: o.target } };
      if (o.kind === 'removed') return internal();
      const banCaseIds = o.kind === 'dry_run' && action === 'unban' ? { banCaseIds: o.banCaseIds ?? [] } : {};
      const where = action === 'unban' ? {} : { ...(o.callId ? { callId: o.callId } : {}), participantIds };
      return { status: 200, body: { caseId: o.caseId, action, outcome: o.kind, ...where, target: o.target, ...banCaseIds } };
    }
    case 'banned':
      return {
        status: 200,
        body: {
          caseId: o.caseId,
          action: 'ban',
          outcome: o.kind,
          ...(o.callId ? { callId: o.callId } : {}),
          participantIds: o.participantIds,
          target: o.target,
          removed: o.removed,
          ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
          ...(o.notice ? { notice: o.notice } : {}),
        },
      };
    case 'unbanned':
      return { status: 200, body: { caseId: o.caseId, action: 'unban', outcome: o.kind, target: o.target, banCaseIds: o.banCaseIds } };
    case 'muted':
    case 'unmuted':
    case 'warned':
      return { status: 200, body: { caseId: o.caseId, action: o.action ?? action, outcome: o.kind, callId: o.callId, participantIds: o.participantIds, target: o.target } };
    case 'denied':
      return respond(problem('not-authorized', { caseId: o.caseId, reason: o.reason, retryable: false }));
    case 'target_not_found':
      return respond(problem('target-not-found', { caseId: o.caseId, retryable: false }));
    case 'not_reachable':
      return respond(
        problem('not-reachable', {
          caseId: o.caseId,
          detail: "Nothing was sent: the person is not a member of the meeting's chat, so they cannot be notified privately.",
          retryable: false,
        }),
      );
    case 'ambiguous_target':
      return respond(problem('ambiguous-target', { caseId: o.caseId, candidates: o.candidates, retryable: false }));
    case 'not_bound':
      return respond(
        o.reason === 'conference_not_found'
          ? problem('conference-not-found', { caseId: o.caseId, retryable: false })
          : problem('not-bound', { caseId: o.caseId, reason: o.reason, retryable: o.reason === 'join_timeout' }),
      );
    case 'not_configured':
      return respond(problem('not-configured', { caseId: o.caseId, detail: `Set ${o.missing.join(', ')}.`, retryable: false }));
    case 'unsupported': {
      const calls = labels?.(o.provider).calls ?? o.provider;
      const detail =
        o.capability === 'unmute'
          ? `Only the person can unmute themselves in ${calls}: Bouncer can't unmute someone else there, so nothing was sent.`
          : `${o.provider}: ${o.capability}`;
      return respond(problem('unsupported', { caseId: o.caseId, detail, retryable: false }));
    }
    case 'upstream_failed':
      return respond(
        problem('upstream-failure', {
          status: o.retryable ? 503 : 502,
          caseId: o.caseId,
          detail: [o.service, o.requestId && `request-id ${o.requestId}`, o.code && `code ${o.code}`].filter(Boolean).join(', '),
          retryable: o.retryable,
        }),
      );
    case 'interrupted':
      // Found by reconciliation after a restart, never as a request's own answer; retrying is safe.
      return respond(problem('upstream-failure', { status: 503, caseId: o.caseId, detail: 'interrupted', retryable: true }));
    case 'locked':
      return {
        status: 200,
        body: { caseId: o.caseId, outcome: o.kind, callId: o.callId, already: o.already, chat: o.chat, mute: o.mute, muted: o.muted },
      };
    case 'unlocked':
      return { status: 200, body: { caseId: o.caseId, outcome: o.kind, callId: o.callId, wasLocked: o.wasLocked } };
    case 'bound':
    case 'unbound':
    case 'moderator_added':
    case 'moderator_removed':
    case 'reason_edited':
    case 'case_not_found':
    case 'modlog_set':
      // Not produced by a webhook's action; answered as an internal error, never with its details.
      return internal();
    default:
      return unreachable(o, 'outcome');
  }
}

function respond(p: Problem): { status: number; body: Problem } {
  return { status: p.status, body: p };
}
