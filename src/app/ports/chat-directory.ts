import type { MeetingDetails } from './call-provider.js';

export interface ChatUser {
  userId?: string;
  displayName?: string;
  userPrincipalName?: string;
}

/** A role in a meeting. Teams documents Organizer, Presenter and Attendee; a co-organizer where it says so. */
export type MeetingRole = 'organizer' | 'coorganizer' | 'presenter' | 'attendee' | 'unknown';

/**
 * Lookups in the chat a request came from, made per request (Teams: the Bot Connector on the
 * turn). They throw an outage (UpstreamError) when the chat service fails and return
 * "unknown"/undefined for facts that do not exist.
 */
export interface ChatDirectory {
  /** The Entra object id, name and UPN of a chat member (Teams `29:` id). Cacheable. */
  getUser(chatUserId: string): Promise<ChatUser | undefined>;
  /**
   * The actor's role in this chat's meeting, never cached; 'unknown' when the chat does not say.
   * A meeting's organizer never changes: an actor who is this meeting's organizer, as the channel
   * already knows it (meeting details read before) or as `knownOrganizer` says (the chat's binding
   * to that meeting), is its organizer without a lookup.
   */
  getActorMeetingRole(knownOrganizer?: { meetingId: string; userId: string }): Promise<MeetingRole>;
  /**
   * The actor's role in another chat's meeting (by the meeting id its binding keeps), never cached;
   * 'unknown' when that meeting does not say. Absent: the channel cannot ask (the role is unknown).
   */
  getActorRoleInMeeting?(meetingId: string, tenantId?: string): Promise<MeetingRole>;
  /** The chat's meeting, or undefined when the chat is not a meeting chat. Cacheable. */
  getMeeting(): Promise<MeetingDetails | undefined>;
  /** Whether a chat member id is Bouncer itself. */
  isBot(chatUserId: string): boolean;
}

/** A request from no chat (a webhook): nobody to look up, no meeting, no role. */
export const NO_CHAT: ChatDirectory = {
  getUser: async () => undefined,
  getActorMeetingRole: async () => 'unknown',
  getMeeting: async () => undefined,
  isBot: () => false,
};
