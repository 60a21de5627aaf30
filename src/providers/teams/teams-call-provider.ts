import { randomUUID } from 'node:crypto';
import type { CallState, Participant } from '../../app/domain/participant.js';
import type {
  CallLookup,
  CallProvider,
  ConfirmedOrganizer,
  MeetingDetails,
  MeetingToJoin,
  ProviderCapabilities,
} from '../../app/ports/call-provider.js';
import { UpstreamError } from '../../app/domain/errors.js';
import type { Logger } from '../../app/ports/runtime.js';
import type { GraphClient } from './graph-client.js';
import { createdCallSchema, muteOperationSchema, parseGraphBody, participantListSchema, toParticipant } from './graph-schemas.js';
import { parseJoinUrl, parseMeetingLink } from './join-url.js';
import { confirmOrganizer, GraphMeetingLock } from './online-meetings.js';

const MAX_PAGES = 20;

/** Teams calls through Microsoft Graph's cloud communications API (application permissions). */
export class TeamsCallProvider implements CallProvider {
  readonly kind = 'teams' as const;
  /**
   * Teams participants are people in the directory, removed and muted by their participant id, and
   * notified privately through the meeting's chat (a targeted meeting notification). No
   * `unmuteParticipant`: Graph has no way to unmute someone else; only the person can.
   */
  readonly capabilities: ProviderCapabilities = { removeByLabel: false, phoneCallers: false, meetingNotifications: true };
  /** A lockdown changes the meeting's options (online-meetings.ts): its lobby keeps people out. */
  readonly meetingLock: GraphMeetingLock;

  constructor(
    private readonly graph: GraphClient,
    private readonly logger: Logger,
    /** The app's own tenant (GRAPH_TENANT_ID): a join whose tenant is not otherwise known goes there, never to a link's Tid. */
    private readonly homeTenantId?: string,
  ) {
    this.meetingLock = new GraphMeetingLock(graph);
  }

  /**
   * Joins a scheduled meeting with service-hosted media (the bot processes no audio): by its
   * thread and organizer (meetup-join links), or by its meeting id and passcode (short
   * `/meet/<id>?p=…` links, joinMeetingIdMeetingInfo).
   * https://learn.microsoft.com/graph/api/application-post-calls (join scheduled meeting)
   */
  async joinMeeting(meeting: MeetingToJoin): Promise<{ callId: string; state: CallState }> {
    const link = parseMeetingLink(meeting.joinUrl);
    // The link's Tid and Oid are the asker's words: the tenant comes from the chat or Graph's
    // confirmation, else the app's own; the link's Oid only routes a join nobody confirmed.
    const tenantId = meeting.tenantId ?? this.homeTenantId ?? (link.kind === 'meetup' ? link.tenantId : undefined);
    const where =
      link.kind === 'meeting-id'
        ? {
            meetingInfo: {
              '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
              joinMeetingId: link.joinMeetingId,
              ...(link.passcode !== undefined ? { passcode: link.passcode } : {}),
            },
          }
        : {
            chatInfo: { '@odata.type': '#microsoft.graph.chatInfo', threadId: link.threadId, messageId: link.messageId },
            meetingInfo: {
              '@odata.type': '#microsoft.graph.organizerMeetingInfo',
              organizer: {
                '@odata.type': '#microsoft.graph.identitySet',
                user: { '@odata.type': '#microsoft.graph.identity', id: meeting.organizerUserId ?? link.organizerId, tenantId },
              },
              allowConversationWithoutHost: true,
            },
          };
    const body = {
      '@odata.type': '#microsoft.graph.call',
      callbackUri: meeting.callbackUrl,
      requestedModalities: ['audio'],
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
      ...where,
      ...(tenantId !== undefined ? { tenantId } : {}),
    };
    let res;
    try {
      res = await this.graph.request('POST', '/communications/calls', { body });
    } catch (err) {
      throw withJoinHint(err);
    }
    const created = parseGraphBody(res, createdCallSchema, 'join answer');
    return { callId: created.id, state: created.state === 'established' ? 'established' : 'establishing' };
  }

  /**
   * A webhook names a Teams call by Bouncer's own call id: it is taken as it is, without asking
   * Graph. Bouncer acts only in calls it joined, so the caller (resolve-call.ts) answers an id
   * that no live binding holds as not found before Graph is asked anything.
   */
  async findCall(callId: string): Promise<CallLookup> {
    return { kind: 'found', callId };
  }

  meetingFromJoinUrl(joinUrl: string): MeetingDetails | undefined {
    try {
      const link = parseMeetingLink(joinUrl);
      // No organizer and no tenant: a link says whatever its sender typed (confirmMeetingOrganizer).
      return { meetingId: link.kind === 'meetup' ? link.threadId : link.joinMeetingId, joinUrl };
    } catch {
      return undefined;
    }
  }

  /** Graph's onlineMeeting for the link (online-meetings.ts); undefined when it cannot be confirmed. */
  async confirmMeetingOrganizer(joinUrl: string): Promise<ConfirmedOrganizer | undefined> {
    let lookUnder: string;
    try {
      lookUnder = parseJoinUrl(joinUrl).organizerId;
    } catch {
      return undefined;
    }
    return confirmOrganizer(this.graph, joinUrl, lookUnder);
  }

  /** https://learn.microsoft.com/graph/api/call-list-participants */
  async listParticipants(callId: string): Promise<Participant[]> {
    const out: Participant[] = [];
    let next: string | undefined = `/communications/calls/${encodeURIComponent(callId)}/participants`;
    for (let page = 0; next && page < MAX_PAGES; page++) {
      const res = await this.graph.request('GET', next);
      const listed = parseGraphBody(res, participantListSchema, 'participant list');
      for (const p of listed.value) {
        const participant = toParticipant(callId, p);
        if (participant) out.push(participant);
      }
      next = listed['@odata.nextLink'] ?? undefined;
    }
    if (next) this.logger.warn({ callId, pages: MAX_PAGES }, 'participant list truncated');
    return out;
  }

  /** Hangs up Bouncer's own leg (https://learn.microsoft.com/graph/api/call-delete); 404 = already gone. */
  async leaveCall(callId: string): Promise<void> {
    await this.graph.request('DELETE', `/communications/calls/${encodeURIComponent(callId)}`, { accept: [404], idempotent: true });
  }

  /**
   * https://learn.microsoft.com/graph/api/participant-delete — 404 means the person already left;
   * 403 mostly means the tenant has not allowed the app to remove participants
   * (Set-CsApplicationMeetingConfiguration -AllowRemoveParticipantAppIds).
   *
   * The DELETE is idempotent: one that timed out or lost its connection is sent again (within the
   * command's deadline), and a 404 on a retry after such an attempt, or after a 5xx, is taken as
   * that attempt's removal.
   */
  async removeParticipant(callId: string, participantId: string): Promise<'removed' | 'already_gone'> {
    const res = await this.graph.request(
      'DELETE',
      `/communications/calls/${encodeURIComponent(callId)}/participants/${encodeURIComponent(participantId)}`,
      { accept: [404], hints: { 403: 'remove-participant-policy' }, idempotent: true },
    );
    if (res.status !== 404) return 'removed';
    if (!res.afterUncertainAttempt) return 'already_gone';
    this.logger.info({ callId, participantId }, 'the participant was gone when the removal was sent again: the attempt that got no answer (or a server error) most likely removed them');
    return 'removed';
  }

  /**
   * https://learn.microsoft.com/graph/api/participant-mute — a server mute of another participant
   * (Graph drops their audio until they unmute themselves). 404 means the person already left.
   * The answer is a muteParticipantOperation; a `failed` one is an outage.
   */
  async muteParticipant(callId: string, participantId: string): Promise<'muted' | 'already_gone'> {
    const res = await this.graph.request(
      'POST',
      `/communications/calls/${encodeURIComponent(callId)}/participants/${encodeURIComponent(participantId)}/mute`,
      // clientContext: Graph echoes it in the operation and its notifications (at most 256 characters).
      { body: { clientContext: randomUUID() }, accept: [404] },
    );
    if (res.status === 404) return 'already_gone';
    if (res.body === undefined) return 'muted'; // 202 with no operation body: accepted.
    const operation = parseGraphBody(res, muteOperationSchema, 'mute answer');
    if (operation.status === 'failed') {
      const code = operation.resultInfo?.code ?? undefined;
      throw new UpstreamError('graph', 'Graph mute operation failed', {
        status: res.status,
        requestId: res.requestId,
        vendorCode: code === undefined ? undefined : String(code),
      });
    }
    return 'muted';
  }
}

/**
 * Graph's join errors a tenant administrator can fix, by the code Graph gives (`error.code`):
 * 7504 insufficient tenant permissions, 7505 tenant mismatch. The error keeps its details and gains
 * the hint the chat words.
 */
function withJoinHint(err: unknown): unknown {
  if (!(err instanceof UpstreamError) || err.hint) return err;
  const hint = err.vendorCode === '7504' ? 'join-tenant-permissions' : err.vendorCode === '7505' ? 'join-tenant-mismatch' : undefined;
  if (!hint) return err;
  return new UpstreamError(err.service, err.message, {
    code: err.code === 'UPSTREAM_INVALID_RESPONSE' ? 'UPSTREAM_INVALID_RESPONSE' : 'UPSTREAM_FAILED',
    status: err.status,
    requestId: err.requestId,
    retryable: false,
    vendorCode: err.vendorCode,
    moreInfo: err.moreInfo,
    cause: err,
    hint,
  });
}
