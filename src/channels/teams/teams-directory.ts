import { TeamsInfo, type TurnContext } from 'botbuilder';
import { awaitWithin, callBudgetMs } from '../../app/domain/deadline.js';
import { UpstreamError } from '../../app/domain/errors.js';
import type { MeetingDetails } from '../../app/ports/call-provider.js';
import type { ChatDirectory, ChatUser, MeetingRole } from '../../app/ports/chat-directory.js';
import { ChatMembers } from './chat-members.js';
import { ReplyAddresses } from './reply-address.js';
import { TtlCache } from './ttl-cache.js';

/** How long a meeting's details are kept: its join link, organizer and tenant never change. */
const MEETING_TTL_MS = 12 * 60 * 60_000;
/** How long "no such meeting" is kept. */
const NO_MEETING_TTL_MS = 10 * 60_000;

/**
 * What the turns and the participant notifier share: the chats' members (ids do not change) and
 * meeting details (nor do they).
 */
export class TeamsLookupCaches {
  readonly members = new ChatMembers();
  /** The chats' reply addresses, each parsed once. */
  readonly addresses = new ReplyAddresses();
  readonly meetings = new TtlCache<MeetingDetails | null>(MEETING_TTL_MS, 1_000);
}

interface TeamsChannelDataLike {
  meeting?: { id?: string };
  tenant?: { id?: string };
}

/**
 * ChatDirectory over the Bot Connector's Teams APIs (TeamsInfo), for one turn. TeamsInfo takes no
 * deadline, so each lookup is awaited at most `timeoutMs` (or what is left of the command's).
 */
export class TeamsChatDirectory implements ChatDirectory {
  constructor(
    private readonly context: TurnContext,
    private readonly caches: TeamsLookupCaches,
    private readonly timeoutMs: number,
    /** The meeting, when the activity names it elsewhere than `channelData.meeting.id` (a meeting start event's value). */
    private readonly meetingId?: string,
  ) {}

  private within<T>(call: Promise<T>, what: string): Promise<T> {
    return awaitWithin(call, callBudgetMs(this.timeoutMs), 'teams', `Teams ${what}`);
  }

  isBot(chatUserId: string): boolean {
    return chatUserId === this.context.activity.recipient?.id;
  }

  private get channelData(): TeamsChannelDataLike {
    return (this.context.activity.channelData ?? {}) as TeamsChannelDataLike;
  }

  async getUser(chatUserId: string): Promise<ChatUser | undefined> {
    const conversationId = this.context.activity.conversation.id;
    const known = this.caches.members.user(conversationId, chatUserId);
    if (known !== undefined) return known ?? undefined;
    try {
      const member = await this.within(TeamsInfo.getMember(this.context, chatUserId), 'member lookup');
      return this.caches.members.remember(conversationId, { ...member, id: member.id ?? chatUserId });
    } catch (err) {
      if (!isNotFound(err)) throw teamsFailure('member lookup', err);
      this.caches.members.notAMember(conversationId, { chatId: chatUserId });
      return undefined;
    }
  }

  getActorMeetingRole(knownOrganizer?: { meetingId: string; userId: string }): Promise<MeetingRole> {
    const meetingId = this.channelData.meeting?.id;
    if (!meetingId) return Promise.resolve('unknown');
    // A meeting's organizer never changes: an actor known to be this meeting's organizer (its
    // details read before, or the chat's binding to it) needs no lookup.
    const actor = this.context.activity.from?.aadObjectId?.toLowerCase();
    const organizer = this.caches.meetings.get(meetingId)?.organizerUserId ?? (knownOrganizer?.meetingId === meetingId ? knownOrganizer.userId.toLowerCase() : undefined);
    if (actor && organizer === actor) return Promise.resolve('organizer');
    return this.getActorRoleInMeeting(meetingId, this.channelData.tenant?.id);
  }

  async getActorRoleInMeeting(meetingId: string, tenantId?: string): Promise<MeetingRole> {
    const actorUserId = this.context.activity.from?.aadObjectId;
    if (!actorUserId) return 'unknown';
    try {
      const participant = await this.within(
        TeamsInfo.getMeetingParticipant(this.context, meetingId, actorUserId, tenantId ?? this.channelData.tenant?.id),
        'meeting role lookup',
      );
      return toRole(participant.meeting?.role);
    } catch (err) {
      if (isNotFound(err)) return 'unknown';
      throw teamsFailure('meeting role lookup', err);
    }
  }

  async getMeeting(): Promise<MeetingDetails | undefined> {
    const meetingId = this.channelData.meeting?.id ?? this.meetingId;
    if (!meetingId) return undefined;
    const found = await this.caches.meetings.getOrLoad(
      meetingId,
      async () => {
        try {
          const info = await this.within(TeamsInfo.getMeetingInfo(this.context, meetingId), 'meeting lookup');
          if (!info.details?.joinUrl) return null;
          return {
            meetingId,
            joinUrl: info.details.joinUrl,
            organizerUserId: info.organizer?.aadObjectId?.toLowerCase(),
            tenantId: info.organizer?.tenantId ?? this.channelData.tenant?.id,
          };
        } catch (err) {
          if (isNotFound(err)) return null;
          throw teamsFailure('meeting lookup', err);
        }
      },
      (details) => (details ? MEETING_TTL_MS : NO_MEETING_TTL_MS),
    );
    return found ?? undefined;
  }
}

function toRole(role: string | undefined): MeetingRole {
  switch ((role ?? '').toLowerCase()) {
    case 'organizer':
      return 'organizer';
    // Not documented for the Bot Framework meeting API; Graph spells it `coorganizer`.
    case 'coorganizer':
    case 'co-organizer':
      return 'coorganizer';
    case 'presenter':
      return 'presenter';
    case 'attendee':
    case 'guest':
      return 'attendee';
    default:
      return 'unknown';
  }
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** A Bot Connector failure as an outage, keeping its status and request id (a timeout already is one). */
export function teamsFailure(what: string, err: unknown): UpstreamError {
  if (err instanceof UpstreamError) return err; // Timed out waiting: already says so.
  const status = statusOf(err);
  const requestId = (err as { response?: { headers?: { get?(n: string): string | undefined } } })?.response?.headers?.get?.(
    'x-ms-request-id',
  );
  return new UpstreamError('teams', `Teams ${what} failed${status ? `: ${status}` : ''}`, {
    status,
    requestId: requestId ?? undefined,
    retryable: status === undefined || status === 429 || status >= 500,
    cause: err,
  });
}
