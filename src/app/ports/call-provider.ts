import type { CallState, Participant, ProviderKind } from '../domain/participant.js';

/**
 * What a provider can do beyond listing and removing. Optional methods on CallProvider are
 * capabilities too: where one is missing, the app answers `unsupported`. Core asks these, never
 * the provider's name.
 */
export interface ProviderCapabilities {
  /** A participant can be removed by its label alone, without knowing who it is (Twilio). */
  removeByLabel: boolean;
  /**
   * Participants are phone lines: a mentioned person is matched to them through the phone numbers
   * of their directory profile.
   */
  phoneCallers: boolean;
  /**
   * Its participants are in a Teams-like meeting whose chat can send one of them a private
   * notification (Teams: a targeted in-meeting notification, sent by the chat channel through
   * ParticipantNotifier). A provider that plays notices itself has `announce` instead.
   */
  meetingNotifications: boolean;
}

/** A private notice as a backend fetches it back from Bouncer: its audit case, and the token that unlocks it. */
export interface NoticeRef {
  caseId: number;
  token: string;
}

/**
 * A calling backend. One implementation per folder under src/providers/, each registered in
 * src/providers/index.ts.
 */
export interface CallProvider {
  readonly kind: ProviderKind;
  readonly capabilities: ProviderCapabilities;
  /** Joins the meeting's call so that the app may manage its participants (Teams). */
  joinMeeting?(meeting: MeetingToJoin): Promise<{ callId: string; state: CallState }>;
  /**
   * The meeting a join link names, or undefined when it is not a usable join link (Teams). It
   * carries no organizer and no tenant: those fields of a link are the asker's words.
   */
  meetingFromJoinUrl?(joinUrl: string): MeetingDetails | undefined;
  /**
   * The organizer of the meeting a join link names, as the backend's own records say (Teams:
   * Graph's onlineMeeting looked up by its JoinWebUrl). Undefined when it cannot be confirmed (no
   * such meeting, or the lookup is not permitted); throws an outage when the backend fails.
   */
  confirmMeetingOrganizer?(joinUrl: string): Promise<ConfirmedOrganizer | undefined>;
  /** The live call named by an id or a name (Teams: a call id; Twilio: a ConferenceSid or friendly name). */
  findCall?(idOrName: string): Promise<CallLookup>;
  /**
   * The chats an administrator configured a call for (Twilio: TWILIO_CONFERENCE_CHATS), by any of
   * the names or ids given; empty when none. Binding such a call is for those chats' moderators
   * (and admins anywhere).
   */
  chatsConfiguredFor?(call: { callId?: string; callName?: string }): readonly string[];
  /** Leaves the call when a chat is unbound (Teams: hangs up the bot's own call leg). */
  leaveCall?(callId: string): Promise<void>;
  /** Lists the call's participants (may be incomplete for large meetings; the roster is preferred). */
  listParticipants(callId: string): Promise<Participant[]>;
  /**
   * Removes one participant by its id (Teams participant id, Twilio CallSid) or, with the
   * removeByLabel capability, its label. Resolves 'already_gone' when the backend no longer knows it.
   */
  removeParticipant(callId: string, participantIdOrLabel: string): Promise<'removed' | 'already_gone'>;
  /**
   * Mutes one participant for everyone (a server mute), by id or, with removeByLabel, label.
   * Resolves 'already_gone' when the backend no longer knows it. Absent: the backend cannot mute.
   */
  muteParticipant?(callId: string, participantIdOrLabel: string): Promise<'muted' | 'already_gone'>;
  /** Unmutes one participant. Absent where only the person can unmute themselves (Teams). */
  unmuteParticipant?(callId: string, participantIdOrLabel: string): Promise<'unmuted' | 'already_gone'>;
  /**
   * Plays a private notice to one participant only (Twilio: the participant's AnnounceUrl, pointing
   * at Bouncer's TwiML for `notice`). Resolves once the backend has the notice's words (`until:
   * 'fetched'`, the default), or once it has been played (`'heard'`: so that a removal right after
   * does not cut it off). Throws an outage when it could not be had or played.
   */
  announce?(callId: string, participantIdOrLabel: string, notice: NoticeRef, options?: { until?: 'fetched' | 'heard' }): Promise<'announced' | 'already_gone'>;
  /**
   * Locks a meeting's door through its options (Teams: the onlineMeeting's lobby, mic, camera and
   * chat settings). Absent: the backend has no such options, and a lockdown is kept by removing
   * whoever joins (Twilio).
   */
  readonly meetingLock?: MeetingLock;
}

/** A meeting whose options a lockdown changes: its join link and its confirmed organizer. */
export interface MeetingToLock {
  joinUrl: string;
  organizerUserId: string;
}

/** A meeting's options, read, locked and restored (see CallProvider.meetingLock). */
export interface MeetingLock {
  /**
   * The meeting a join link names under its organizer, and the options a lockdown changes as they
   * are now (opaque to the app: what `restore` takes back). Undefined when there is no such meeting.
   * Throws an outage when the backend fails (a 403 with the hint 'meeting-access-policy').
   */
  read(meeting: MeetingToLock): Promise<{ meeting: { organizerUserId: string; meetingId: string }; saved: Record<string, unknown> } | undefined>;
  /** Closes the door: only the organizer bypasses the lobby, attendees' mic and camera off; with `chat`, meeting chat off. */
  lock(meeting: { organizerUserId: string; meetingId: string }, options: { chat: boolean }): Promise<void>;
  /** Puts back exactly the options `read` gave. */
  restore(meeting: { organizerUserId: string; meetingId: string }, saved: Record<string, unknown>): Promise<void>;
}

export type CallLookup =
  | { kind: 'found'; callId: string; callName?: string }
  | { kind: 'not_found' }
  | { kind: 'not_in_progress'; callId: string; status: string };

/** Phone numbers of a directory user (Graph profile), to match phone participants to a mention. */
export interface UserPhoneDirectory {
  getPhoneNumbers(userId: string): Promise<string[]>;
  /**
   * The user's UPN, directory name and phone numbers (E.164), to tell whose a phone leg is by its
   * label or number; undefined for an unknown user.
   */
  getProfile?(userId: string): Promise<UserProfile | undefined>;
}

/** What a directory says about a user that a phone leg may carry (as its label or number). */
export interface UserProfile {
  userPrincipalName?: string;
  displayName?: string;
  phoneNumbers: string[];
}

/** A meeting's organizer as the backend confirmed it. */
export interface ConfirmedOrganizer {
  /** Entra object id (lower case). */
  organizerUserId: string;
  tenantId?: string;
}

export interface MeetingToJoin {
  joinUrl: string;
  /** From the authenticated chat or the backend's confirmation; absent: the backend's own tenant (never the link's). */
  tenantId?: string;
  /** The organizer as confirmed (absent: the backend reads the link's, for routing the join only). */
  organizerUserId?: string;
  /** Where the backend posts call and roster notifications. */
  callbackUrl: string;
}

/** The meeting a chat belongs to. */
export interface MeetingDetails {
  meetingId: string;
  joinUrl: string;
  organizerUserId?: string;
  tenantId?: string;
}
