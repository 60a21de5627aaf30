import type { CallBinding, CallState, Participant, ProviderKind } from './participant.js';
import type { OutcomeKind } from './outcome.js';

/**
 * A calling backend. One implementation per folder under src/providers/. Optional methods are
 * capabilities: where one is missing, core answers `unsupported`.
 */
export interface CallProvider {
  readonly kind: ProviderKind;
  /** Teams: joins the meeting's call so that the app may manage its participants. */
  joinMeeting?(meeting: MeetingToJoin): Promise<{ callId: string; state: CallState }>;
  /** Teams: the meeting a join link names, or undefined when it is not a usable join link. */
  meetingFromJoinUrl?(joinUrl: string): MeetingDetails | undefined;
  /** Twilio: the in-progress conference named by a ConferenceSid or a friendly name. */
  findConference?(sidOrName: string): Promise<ConferenceLookup>;
  /** Leaves the call when a chat is unbound (Teams: hangs up the bot's own call leg). */
  leaveCall?(callId: string): Promise<void>;
  /** Lists the call's participants (may be incomplete for large meetings; the roster is preferred). */
  listParticipants(callId: string): Promise<Participant[]>;
  /**
   * Removes one participant by its id (Teams participant id, Twilio CallSid) or, where the backend
   * has them, its label. Resolves 'already_gone' when the backend no longer knows it.
   */
  removeParticipant(callId: string, participantIdOrLabel: string): Promise<'removed' | 'already_gone'>;
}

export type ConferenceLookup =
  | { kind: 'found'; sid: string; friendlyName: string }
  | { kind: 'not_found' }
  | { kind: 'not_in_progress'; sid: string; status: string };

/** Phone numbers of a directory user (Graph profile), to match phone participants to a mention. */
export interface UserPhoneDirectory {
  getPhoneNumbers(userId: string): Promise<string[]>;
}

export interface MeetingToJoin {
  joinUrl: string;
  tenantId?: string;
  /** Where the backend posts call and roster notifications. */
  callbackUrl: string;
}

export interface ChatUser {
  userId?: string;
  displayName?: string;
  userPrincipalName?: string;
}

export type MeetingRole = 'organizer' | 'presenter' | 'attendee' | 'unknown';

/** The meeting a chat belongs to. */
export interface MeetingDetails {
  meetingId: string;
  joinUrl: string;
  organizerUserId?: string;
  tenantId?: string;
}

/**
 * Lookups in the chat a request came from, made per request (Teams: TeamsInfo on the turn).
 * They throw UpstreamError on outages and return "unknown"/undefined for facts that do not exist.
 */
export interface ChatDirectory {
  /** The Entra object id, name and UPN of a chat member (Teams `29:` id). Cacheable. */
  getUser(chatUserId: string): Promise<ChatUser | undefined>;
  /** The actor's role in this chat's meeting, never cached; 'unknown' when Teams does not say. */
  getActorMeetingRole(): Promise<MeetingRole>;
  /** The chat's meeting, or undefined when the chat is not a meeting chat. Cacheable. */
  getMeeting(): Promise<MeetingDetails | undefined>;
}

/** One audit case. `id` is the case number users see. */
export interface AuditCase {
  id: number;
  createdAt: string;
  completedAt?: string;
  status: 'pending' | 'completed';
  source: RequestSource;
  action: ModerationAction;
  requestId: string;
  conversationId?: string;
  callId?: string;
  actorUserId?: string;
  actorChatId?: string;
  actorName?: string;
  targetUserId?: string;
  targetChatId?: string;
  targetName?: string;
  participantIds: string[];
  reason?: string;
  outcome?: OutcomeKind;
  /** Outcome details (denial reason, upstream request id, …). */
  detail: Record<string, unknown>;
}

export type ModerationAction = 'kick' | 'bind' | 'unbind';

export type RequestSource = 'chat' | 'webhook' | 'admin' | 'card';

export type NewCase = Omit<AuditCase, 'id' | 'status' | 'completedAt' | 'participantIds' | 'detail'> &
  Partial<Pick<AuditCase, 'participantIds' | 'detail'>>;

export interface CaseResult {
  outcome: OutcomeKind;
  callId?: string;
  participantIds?: string[];
  detail?: Record<string, unknown>;
}

/**
 * Persistence. Async so that a networked implementation (PostgreSQL) can follow; every
 * implementation passes test/store/store-contract.ts.
 */
export interface Store {
  getBinding(conversationId: string): Promise<CallBinding | undefined>;
  findBindingByCallId(callId: string): Promise<CallBinding | undefined>;
  /** Inserts or replaces the binding of `binding.conversationId`. */
  saveBinding(binding: CallBinding): Promise<void>;
  /** Updates the state of the binding that holds `callId`; returns it, or undefined if none. */
  setCallState(callId: string, state: CallState, at: string): Promise<CallBinding | undefined>;

  upsertParticipants(callId: string, participants: Participant[]): Promise<void>;
  removeParticipants(callId: string, participantIds: string[]): Promise<void>;
  replaceRoster(callId: string, participants: Participant[]): Promise<void>;
  listRoster(callId: string): Promise<Participant[]>;

  /** Opens a case (pending), or records a finished one when `result` is given. Returns its number. */
  openCase(input: NewCase, result?: CaseResult, at?: string): Promise<number>;
  closeCase(id: number, result: CaseResult, at: string): Promise<void>;
  getCase(id: number): Promise<AuditCase | undefined>;
  listCases(query: { conversationId?: string; limit: number }): Promise<AuditCase[]>;

  /**
   * Claims an idempotency key for a request (expired keys are purged first). Returns undefined when
   * this caller now owns the key, or the existing record when another request got there first.
   */
  claimIdempotencyKey(key: string, requestHash: string, at: string, expiresAt: string): Promise<IdempotencyRecord | undefined>;
  /** Stores the response of a claimed key, for every later request with the same key. */
  completeIdempotencyKey(key: string, response: StoredResponse): Promise<void>;
  /** Gives a claimed key up (the request failed unexpectedly), so that a retry can run. */
  releaseIdempotencyKey(key: string): Promise<void>;
  getIdempotencyKey(key: string): Promise<IdempotencyRecord | undefined>;

  /** Cheap liveness check for /healthz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface StoredResponse {
  status: number;
  body: unknown;
}

export interface IdempotencyRecord {
  key: string;
  requestHash: string;
  state: 'pending' | 'done';
  response?: StoredResponse;
  createdAt: string;
  expiresAt: string;
}

export interface Clock {
  now(): Date;
}

/** The logging surface core needs (pino's, narrowed). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
