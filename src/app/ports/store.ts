import type { OutcomeKind } from '../domain/outcome.js';
import type { CallBinding, CallState, Participant, ReplyAddress } from '../domain/participant.js';

/**
 * Persistence, one port per aggregate. Async so that a networked implementation (PostgreSQL) can
 * follow; every implementation passes the contract suites in test/store/contract/.
 */
export interface Store {
  readonly bindings: BindingStore;
  readonly roster: RosterStore;
  readonly cases: CaseStore;
  readonly idempotency: IdempotencyStore;
  readonly moderators: ModeratorStore;
  readonly bans: BanStore;
  readonly modlog: ModLogStore;
  readonly lockdowns: LockdownStore;
  /** Cheap liveness check for /healthz. */
  ping(): Promise<void>;
  /**
   * Resolves once every write made so far is on disk (throws STORE_FAILED when it cannot be).
   * Called before anything that tells the world what was written: an upstream change after its
   * pending case, an answer after its completed case or idempotency key. A store whose commits
   * are durable by themselves resolves at once.
   */
  durable(): Promise<void>;
  close(): Promise<void>;
}

/** Which call each chat is bound to. */
export interface BindingStore {
  get(conversationId: string): Promise<CallBinding | undefined>;
  /** The most recently updated binding that holds `callId`. */
  findByCallId(callId: string): Promise<CallBinding | undefined>;
  /** Every binding that holds `callId` (any state), most recently updated first. */
  listByCallId(callId: string): Promise<CallBinding[]>;
  /**
   * Every binding of `provider` whose call has the name `callName` (exactly; any state: a chat
   * bound to yesterday's conference of that name is its chat today), most recently updated first.
   */
  listByCallName(provider: string, callName: string): Promise<CallBinding[]>;
  /**
   * The bindings whose call is live (not terminated), most recently updated first, at most
   * `limit`: the calls Bouncer moderates now (an everywhere ban sweeps them).
   */
  listLive(limit: number): Promise<CallBinding[]>;
  /** Inserts or replaces the binding of `binding.conversationId`. */
  save(binding: CallBinding): Promise<void>;
  /**
   * Updates the state of every binding that holds `callId` and returns the most recent one, or
   * undefined if none. A terminated call's roster is dropped in the same transaction.
   */
  setCallState(callId: string, state: CallState, at: string): Promise<CallBinding | undefined>;
  /**
   * Forgets the call states recorded by `setCallState` (and by `establishing` saves) that nothing
   * will ask for again: those of ended calls (`terminated`) last updated before `endedBefore`, and
   * any last updated before `idleBefore`; never the state of a call a live (not terminated) binding
   * holds. A state is only read when an `establishing` binding of its call is saved, seconds after
   * the call's notification. Deletes in batches (other work runs between them) and returns how many
   * it deleted.
   */
  pruneCallStates(endedBefore: string, idleBefore: string): Promise<number>;
}

/**
 * Who is in each call, kept from the backends' notifications.
 *
 * Reads on the request path (a kick) must cost the same in a call of 10 or of 20,000: every `find…`
 * method is an indexed lookup, never a scan of the call's roster. Whatever reads a list returns
 * it in *roster order*: by display name (participants without one first; names compared by code
 * point, as SQLite's BINARY collation and PostgreSQL's "C" collation do), then by participant id.
 * `compareRosterOrder` (src/app/domain/participant.ts) is that order.
 */
export interface RosterStore {
  /**
   * Adds or updates participants, all or none. An update without a display name, label or phone
   * numbers keeps the ones already known.
   */
  upsert(callId: string, participants: Participant[]): Promise<void>;
  /** Removes participants (unknown ids are ignored), all or none. */
  remove(callId: string, participantIds: string[]): Promise<void>;
  /** Replaces the whole roster of a call, atomically (nothing of the old roster is kept). */
  replace(callId: string, participants: Participant[]): Promise<void>;
  /**
   * Makes the roster of a call exactly `participants` (a backend's full roster, which may hold
   * tens of thousands), like `upsert` followed by removing everyone not in the list: a participant
   * still there without a display name, label or phone numbers keeps the ones already known.
   *
   * Large lists may be written in slices, letting other work run between them (an embedded
   * database must not hold the process for the whole list). So it need not be atomic: while it
   * runs, a reader may see the old roster with some of the new participants added or updated. When
   * it resolves, the roster is exactly the list. When it fails part-way, nobody who was in the old
   * roster or written so far is lost (a superset; the next full roster corrects it): participants
   * are only removed once every one of the list is written. Syncs of the same call run one after
   * the other, in the order they were called. An atomic implementation meets this contract too.
   */
  sync(callId: string, participants: Participant[]): Promise<void>;
  /** The whole roster, in roster order. Costs the size of the call: not for the request path. */
  list(callId: string): Promise<Participant[]>;
  /** How many participants the call has, leaving out the kinds in `excludeKinds`. */
  count(callId: string, query?: RosterQuery): Promise<number>;
  /**
   * A page of the roster in roster order, leaving out the kinds in `excludeKinds`: the
   * participants after the first `offset`, at most `limit` of them (`limit` ≥ 0).
   */
  page(callId: string, query: RosterQuery & { offset: number; limit: number }): Promise<Participant[]>;
  /** The participant with this id, or undefined. */
  findByParticipantId(callId: string, participantId: string): Promise<Participant | undefined>;
  /**
   * Every participant (of any kind) whose `identityId` is `identityId`, in roster order. Ids are
   * compared case-insensitively: both sides lower-cased as JavaScript's `toLowerCase` does
   * (Entra object ids are GUIDs whose case varies between APIs).
   */
  findByIdentity(callId: string, identityId: string): Promise<Participant[]>;
  /**
   * Every participant (of any kind) whose `label` is `label`, in roster order: exactly, or with
   * `ignoreCase` with both sides lower-cased as JavaScript's `toLowerCase` does (full Unicode, not
   * only ASCII: an implementation stores the lower-cased label when it writes, rather than folding
   * in SQL).
   */
  findByLabel(callId: string, label: string, options?: { ignoreCase?: boolean }): Promise<Participant[]>;
  /** Every participant (of any kind) one of whose `phoneNumbers` is `phoneNumber` (exactly), in roster order. */
  findByPhone(callId: string, phoneNumber: string): Promise<Participant[]>;
}

/** Which participants a roster count or page covers. */
export interface RosterQuery {
  /** Kinds to leave out, e.g. `['application']` for the people only (not bots). */
  excludeKinds?: readonly Participant['kind'][];
}

/** The audit log. */
export interface CaseStore {
  /** Opens a case (pending), or records a finished one when `result` is given. Returns its number. */
  open(input: NewCase, result?: CaseResult, at?: string): Promise<number>;
  /**
   * Completes a pending case; throws STORE_FAILED when it is not pending. `writes` are what the
   * change the case records came to, made in the same transaction: all of them or none (a case that
   * is not pending changes nothing).
   */
  close(id: number, result: CaseResult, at: string, writes?: CaseCompletionWrites): Promise<void>;
  get(id: number): Promise<AuditCase | undefined>;
  /** Pending cases opened at or before `openedBefore` (ISO time), oldest first: for reconciliation. */
  listPending(openedBefore: string, limit: number): Promise<AuditCase[]>;
  /** Newest first. */
  list(query: { conversationId?: string; limit: number }): Promise<AuditCase[]>;
  /**
   * The cases against a person, newest first, at most `limit`: those whose target user id (any
   * case) or target chat id is one of the given. Indexed by each.
   */
  listByTarget(query: { userId?: string; chatId?: string; limit: number }): Promise<AuditCase[]>;
  /**
   * Replaces a case's reason and keeps what it replaced (the history), in one transaction. Returns
   * the reason replaced (undefined: there was none), or `{ found: false }` for an unknown case.
   */
  editReason(caseId: number, edit: NewReasonEdit): Promise<{ found: true; previous?: string } | { found: false }>;
  /** The edits of a case's reason, oldest first (the first one's `previous` is the original reason). */
  reasonEdits(caseId: number): Promise<ReasonEdit[]>;
}

/** One edit of a case's reason (`/reason`): what it was before, what it became, who changed it and when. */
export interface ReasonEdit {
  caseId: number;
  /** The reason before this edit; absent when the case had none. */
  previous?: string;
  reason: string;
  editedAt: string;
  /** Entra object id (lower case) and name of who edited it. */
  editedBy?: string;
  editedByName?: string;
  /** The case that audits the edit. */
  editCaseId: number;
}

export type NewReasonEdit = Omit<ReasonEdit, 'caseId' | 'previous'>;

/** The chats that receive every case as it completes (`/modlog here`), kept for every instance. */
export interface ModLogStore {
  /** Makes the chat a mod-log channel, or updates its address; false when it already was one. */
  add(channel: ModLogChannel): Promise<boolean>;
  /** Stops the chat being one; false when it was not. */
  remove(conversationId: string): Promise<boolean>;
  /** Every mod-log channel, in the order they were added. */
  list(): Promise<ModLogChannel[]>;
}

export interface ModLogChannel {
  conversationId: string;
  /** Where the chat's channel sends messages to it (opaque, as in a binding). */
  replyAddress: ReplyAddress;
  tenantId?: string;
  /** Who made it one (Entra object id, lower case), and when. */
  addedBy?: string;
  addedAt: string;
}

/** The people an organizer named to moderate a chat's meeting (`/moderators add @x`). */
export interface ModeratorStore {
  /** Names a moderator of the chat; false when they already were one (nothing changes then). */
  add(moderator: NamedModerator): Promise<boolean>;
  /** Removes a moderator of the chat; false when they were not one. */
  remove(conversationId: string, userId: string): Promise<boolean>;
  /** Whether the user (Entra object id, any case) is a named moderator of the chat. */
  has(conversationId: string, userId: string): Promise<boolean>;
  /** The chat's named moderators, in the order they were added. */
  list(conversationId: string): Promise<NamedModerator[]>;
}

export interface NamedModerator {
  conversationId: string;
  /** Entra object id, lower case. */
  userId: string;
  displayName?: string;
  /** Who named them (Entra object id), and when. */
  addedBy?: string;
  addedAt: string;
}

/**
 * Who is kept out of which calls (`/ban`), until the ban is lifted (`/unban`) or expires. A ban is
 * keyed by the number of the case that made it. Lifted and expired bans are kept (the history).
 */
export interface BanStore {
  /** Records a ban; user ids are kept lower case. Throws STORE_FAILED when its case number already has one. */
  add(ban: NewBan): Promise<void>;
  get(caseId: number): Promise<Ban | undefined>;
  /**
   * The bans active at `at` (neither lifted nor expired) whose scope is one of `scopes` and that
   * name any of `identities` (user ids in any case), oldest first. Indexed by scope and identity.
   */
  findActive(scopes: readonly string[], identities: readonly BanIdentity[], at: string): Promise<Ban[]>;
  /** The bans active at `at` in any of `scopes`, newest first, at most `limit`. */
  listActive(scopes: readonly string[], at: string, limit: number): Promise<Ban[]>;
  /** Lifts a ban active at `at`; false when it was not (unknown, lifted or expired), and nothing changes. */
  lift(caseId: number, lift: { at: string; by?: string; caseId?: number }): Promise<boolean>;
}

/** The scope of a ban that applies to every call Bouncer moderates (`/ban … --everywhere`). */
export const BAN_EVERYWHERE = '*';

export const BAN_IDENTITY_KINDS = ['user', 'phone', 'label'] as const;

/** What a banned person is known by: an Entra object id, a phone number (E.164), or a participant label (Twilio). */
export interface BanIdentity {
  kind: (typeof BAN_IDENTITY_KINDS)[number];
  value: string;
}

export interface Ban {
  /** The number of the case that made the ban. */
  caseId: number;
  /** A chat's conversation id (the calls it is bound to), or BAN_EVERYWHERE. */
  scope: string;
  /** At least one. */
  identities: BanIdentity[];
  targetName?: string;
  reason?: string;
  /** Who banned (Entra object id, lower case) and their name. */
  createdBy?: string;
  createdByName?: string;
  createdAt: string;
  /** Absent: until lifted. */
  expiresAt?: string;
  liftedAt?: string;
  /** Who lifted it (Entra object id) and the case of the `/unban`. */
  liftedBy?: string;
  liftCaseId?: number;
}

export type NewBan = Omit<Ban, 'liftedAt' | 'liftedBy' | 'liftCaseId'>;

/**
 * The calls that are locked down (`/lockdown`): one record per call, as the call lasts (its
 * `callKey`: a Teams meeting's join link, a Twilio conference's name, else the call id), holding
 * what the lockdown changed so that ending it restores exactly that.
 */
export interface LockdownStore {
  /**
   * Starts a lockdown of `lockdown.callKey` unless one is on. When one is on, it is kept as it is
   * (its saved options, case and start are never overwritten), except that `chat` and `mute` become
   * true when asked now; `started` says which, and `lockdown` is the record as it now stands.
   */
  begin(lockdown: Lockdown): Promise<{ started: boolean; lockdown: Lockdown }>;
  /** The lockdown on for any of `callKeys` of `provider` (the first key that has one), or undefined. */
  find(provider: string, callKeys: readonly string[]): Promise<Lockdown | undefined>;
  /** Ends the lockdown of the call and returns it as it was; undefined when none was on. */
  end(provider: string, callKey: string): Promise<Lockdown | undefined>;
}

export interface Lockdown {
  provider: string;
  /** The call as it lasts from one call to the next of the same meeting or conference (see LockdownStore). */
  callKey: string;
  /** The call it was started in. */
  callId: string;
  conversationId?: string;
  /** The case that started it. */
  caseId: number;
  source: RequestSource;
  /** Meeting chat was turned off too (Teams `--chat`). */
  chat: boolean;
  /** Callers who do not moderate were muted (Twilio `--mute`). */
  mute: boolean;
  /** The backend's name for the meeting whose options were changed (Teams: organizer and onlineMeeting id). */
  meeting?: { organizerUserId: string; meetingId: string };
  /** The meeting's options before the lockdown, as the backend gave them (opaque): what ending it restores. */
  saved?: Record<string, unknown>;
  startedAt: string;
  /** Who started it (Entra object id, lower case), or absent for a system or Bouncer itself. */
  startedBy?: string;
}

/** Idempotency keys of webhook requests. */
export interface IdempotencyStore {
  /**
   * Claims a key for a request (expired keys are purged first). Returns undefined when this caller
   * now owns the key, or the existing record when another request got there first.
   */
  claim(key: string, requestHash: string, at: string, expiresAt: string): Promise<IdempotencyRecord | undefined>;
  /** Stores the response of a claimed key, for every later request with the same key. */
  complete(key: string, response: StoredResponse): Promise<void>;
  /**
   * Keeps an interim response (202 Accepted) on a key that is still pending: later claims see it,
   * while the key stays pending, so that it can still be completed with the final response or
   * released. A key that is not pending (done, or absent) is left as it is.
   */
  hold(key: string, response: StoredResponse): Promise<void>;
  /** Gives a pending key up (held or not), so that a retry can run; a done key is kept. */
  release(key: string): Promise<void>;
  get(key: string): Promise<IdempotencyRecord | undefined>;
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

export const MODERATION_ACTIONS = [
  'kick',
  'bind',
  'unbind',
  'moderator_add',
  'moderator_remove',
  'ban',
  'unban',
  'mute',
  'unmute',
  'warn',
  /** `/reason <n> <text>`: a case's reason edited (the case edited in `detail.caseId`). */
  'edit_reason',
  /** `/modlog here` and `/modlog off`: a chat made a mod-log channel, or no longer one. */
  'modlog_on',
  'modlog_off',
  /** `/lockdown` and `/lockdown off`: a call locked down, or its lockdown ended. */
  'lockdown',
  'unlock',
] as const;
export type ModerationAction = (typeof MODERATION_ACTIONS)[number];

/** `auto`: Bouncer itself, enforcing a ban or a lockdown (someone joined), or starting a lockdown (raid mode). */
export const REQUEST_SOURCES = ['chat', 'webhook', 'admin', 'card', 'auto'] as const;
export type RequestSource = (typeof REQUEST_SOURCES)[number];

export type NewCase = Omit<AuditCase, 'id' | 'status' | 'completedAt' | 'participantIds' | 'detail'> &
  Partial<Pick<AuditCase, 'participantIds' | 'detail'>>;

export interface CaseResult {
  outcome: OutcomeKind;
  callId?: string;
  participantIds?: string[];
  detail?: Record<string, unknown>;
}

/**
 * What is written together with a case's completion (`CaseStore.close`), so that a request's end
 * costs one transaction: the roster rows of the people the change removed (as `RosterStore.remove`),
 * and the request's answer kept under its idempotency keys (as `IdempotencyStore.complete`), or,
 * without a `response`, the keys given up (as `IdempotencyStore.release`: a retryable failure is
 * never kept).
 */
export interface CaseCompletionWrites {
  rosterRemoved?: { callId: string; participantIds: readonly string[] };
  idempotency?: { keys: readonly string[]; response?: StoredResponse };
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
