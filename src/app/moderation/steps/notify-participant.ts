import { randomBytes, timingSafeEqual } from 'node:crypto';
import { timeLeftMs, withDeadline } from '../../domain/deadline.js';
import type { NoticeContent } from '../../domain/notice.js';
import type { NoticeStatus } from '../../domain/outcome.js';
import type { NoticeRef } from '../../ports/call-provider.js';
import type { MeetingNoticeTarget, NotReachableReason } from '../../ports/participant-notifier.js';
import type { Store } from '../../ports/store.js';
import type { ModerationDeps } from '../deps.js';
import type { CallBinding, Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { ChatUser } from '../../ports/chat-directory.js';
import type { TargetRef, Unrecorded } from '../requests.js';
import { upstreamFailure } from './audit.js';

/** The person a notice is for, as an action found them in its call (steps/removal-target.ts). */
export interface NoticeSubject {
  provider: CallProvider;
  binding: CallBinding;
  /** The participants who are this person. */
  matches: Participant[];
  /** What the action acts on: participant ids, or a label alone. */
  keys: string[];
  /** The person as the chat's directory knows them (a mention or a user id). */
  user?: ChatUser;
}

/** What a notice needs of its request: how it named the person, and why. */
type NoticeRequest = { target: TargetRef; reason?: string };

/**
 * Private notices to one person in a call (`/warn`, and the notice before a removal with
 * NOTIFY_REMOVED): how one can reach the subject, sending it, and serving its words back to the
 * backend that fetches them (Twilio's AnnounceUrl, Teams' notice page). The words live in the
 * action's audit case (its reason), unlocked by a random token kept in the case's detail: nothing
 * a request's URL says is ever read back as the notice's text.
 */

/** The case detail key of a notice's token. */
const TOKEN_KEY = 'noticeToken';

/** How long a notice before a removal may take at most (the removal must keep time for itself too). */
const NOTICE_BEFORE_REMOVAL_MAX_MS = 30_000;

/** A new notice's token (unguessable: it is all that unlocks the notice's page). */
export function newNoticeToken(): string {
  return randomBytes(18).toString('base64url');
}

/** The case detail a notice's token is kept in (given to CaseRecorder.act). */
export function noticeDetail(token: string): Record<string, unknown> {
  return { [TOKEN_KEY]: token };
}

/** The way a notice reaches the subject: played by the call's backend, or sent by the chat's channel into its meeting. */
export type NoticeRoute = { via: 'announce' } | { via: 'meeting'; to: MeetingNoticeTarget };

/**
 * How a private notice can reach the subject here, or why it cannot: the backend cannot notify
 * anyone (`unsupported`), the chat has nothing to send it with, or Bouncer has no public URL to
 * serve the notice from (`not_configured`).
 */
export function noticeRoute(
  deps: Pick<ModerationDeps, 'publicBaseUrl' | 'notices'>,
  req: NoticeRequest,
  subject: NoticeSubject,
): { route: NoticeRoute } | { unavailable: Unrecorded } {
  const { provider, binding } = subject;
  const unsupported: Unrecorded = { kind: 'unsupported', provider: provider.kind, capability: 'private notice' };
  if (!deps.publicBaseUrl) return { unavailable: { kind: 'not_configured', missing: ['PUBLIC_BASE_URL'] } };
  if (!provider.announce && !provider.capabilities.meetingNotifications) return { unavailable: unsupported };
  if (provider.announce) return { route: { via: 'announce' } };
  // Sent into the meeting by the chat's channel: the chat bound to the call must be its meeting's.
  const person = subject.matches.find((m) => m.kind === 'user');
  const chatId = req.target.kind === 'mention' ? req.target.chatId : undefined;
  const userId = subject.user?.userId ?? person?.identityId;
  if (!deps.notices || !binding.conversationId || !binding.replyAddress || !binding.meetingId || (!chatId && !userId)) return { unavailable: unsupported };
  return {
    route: {
      via: 'meeting',
      to: { conversationId: binding.conversationId, replyAddress: binding.replyAddress, tenantId: binding.tenantId, meetingId: binding.meetingId, chatId, userId },
    },
  };
}

/** What became of a notice sent by its route: delivered, the subject has left, or they cannot be notified privately (nothing sent). */
export type NoticeSent = 'sent' | 'already_gone' | { notReachable: NotReachableReason };

/**
 * Sends the notice by its route. 'already_gone' when the backend no longer knows any of the
 * subject's participants; `notReachable` when the chat's channel has no way to reach them (they
 * are not a member of the meeting's chat): an expected answer, not an error. Throws an outage when
 * it was not delivered otherwise.
 */
export async function sendNotice(
  deps: Pick<ModerationDeps, 'notices'>,
  subject: NoticeSubject,
  route: NoticeRoute,
  notice: NoticeContent & { ref: NoticeRef },
  options: { until?: 'fetched' | 'heard' } = {},
): Promise<NoticeSent> {
  if (route.via === 'meeting') {
    const delivery = await deps.notices!.notifyInMeeting(route.to, notice);
    return delivery.sent ? 'sent' : { notReachable: delivery.reason };
  }
  const { provider, binding, keys } = subject;
  const results: Array<'announced' | 'already_gone'> = [];
  for (const key of keys) results.push(await provider.announce!(binding.callId, key, notice.ref, options));
  return results.includes('announced') ? 'sent' : 'already_gone';
}

/**
 * The notice to a person about to be removed (NOTIFY_REMOVED), sent just before the removal and
 * waited for (a Twilio announcement until it has been played). Never throws for an outage: the
 * removal goes on whatever becomes of it, and the case says `notice: 'failed'`. It takes at most
 * half of the command's remaining time, and at most `maxMs` (a ban's enforcement keeps its
 * removal within a second).
 */
export async function noticeBeforeRemoval(
  deps: Pick<ModerationDeps, 'publicBaseUrl' | 'notices' | 'logger'>,
  req: NoticeRequest,
  subject: NoticeSubject,
  ref: NoticeRef,
  options: { kind?: 'removal' | 'banned'; maxMs?: number } = {},
): Promise<NoticeStatus> {
  const found = noticeRoute(deps, req, subject);
  if ('unavailable' in found) {
    deps.logger.warn({ caseId: ref.caseId, why: found.unavailable.kind }, 'no notice could be sent before the removal');
    return 'failed';
  }
  const budgetMs = Math.min(options.maxMs ?? NOTICE_BEFORE_REMOVAL_MAX_MS, timeLeftMs() / 2);
  try {
    const sent = await withDeadline(budgetMs, () =>
      sendNotice(deps, subject, found.route, { kind: options.kind ?? 'removal', reason: req.reason, ref }, { until: 'heard' }),
    );
    if (typeof sent === 'object') {
      // Someone the notice cannot reach (a guest, a dial-in, most raiders): expected, so one quiet line, no failure logged.
      deps.logger.debug({ caseId: ref.caseId, why: sent.notReachable }, 'no notice before the removal: the person cannot be notified privately');
    }
    return sent === 'sent' ? 'sent' : 'failed';
  } catch (err) {
    // An outage is a failed notice (logged by upstreamFailure); anything else is a bug, rethrown.
    upstreamFailure(deps, err);
    return 'failed';
  }
}

/**
 * The notice of an audit case, for a backend fetching it back: only with the token the case keeps,
 * and only for an action that sends one (a warning; a removal: a kick or a ban; a ban's automatic
 * removal). Undefined otherwise.
 */
export async function findNotice(store: Store, caseId: number, token: string): Promise<NoticeContent | undefined> {
  if (!Number.isSafeInteger(caseId) || caseId <= 0 || token.length === 0 || token.length > 64) return undefined;
  const found = await store.cases.get(caseId);
  const kept = found?.detail[TOKEN_KEY];
  if (!found || typeof kept !== 'string' || !sameToken(kept, token)) return undefined;
  if (found.action === 'warn') return { kind: 'warning', reason: found.reason };
  // A kick that enforced a ban (an automatic removal) names the ban's case: they are told they are banned.
  if (found.action === 'kick' && found.detail.banCaseId !== undefined) return { kind: 'banned', reason: found.reason };
  if (found.action === 'kick' || found.action === 'ban') return { kind: 'removal', reason: found.reason };
  return undefined;
}

function sameToken(kept: string, given: string): boolean {
  const a = Buffer.from(kept, 'utf8');
  const b = Buffer.from(given, 'utf8');
  return a.length === b.length && timingSafeEqual(a, b);
}
