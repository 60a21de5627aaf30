import type { UpstreamHint } from '../domain/errors.js';
import type { DenialReason, Outcome, TargetSummary } from '../domain/outcome.js';
import type { CallBinding, ProviderKind, ReplyAddress } from '../domain/participant.js';
import type { Participant } from '../domain/participant.js';
import type { MeetingRole } from '../ports/chat-directory.js';
import type { AuditCase, Ban, Lockdown, NamedModerator, ReasonEdit, RequestSource, StoredResponse } from '../ports/store.js';

/** A credential the transport verified; what it proves decides the caller's authority (policy.ts). */
export interface VerifiedCredential {
  /** A Standard Webhooks signature made with one of WEBHOOK_SECRETS. */
  scheme: 'standard-webhooks';
  /** Which configured secret matched (0-based), for the log. */
  secretIndex: number;
  /** The calls that secret may act on (WEBHOOK_SECRETS `whsec_…@scope`); absent = any call. */
  scope?: readonly CallRef[];
}

/** A configured webhook secret and the calls it may act on (absent = any call). */
export interface WebhookSecret {
  /** `whsec_<base64>`. */
  secret: string;
  scope?: readonly CallRef[];
}

/** Who asked, as the transport authenticated them. */
export type Actor =
  /** A person in a chat (Teams: the authenticated activity's sender). */
  | { kind: 'member'; chatId?: string; userId?: string; displayName?: string }
  /** An automated system whose request carried a verified credential. */
  | { kind: 'system'; displayName: string; credential: VerifiedCredential }
  /** Bouncer itself, carrying out a standing order (removing a banned person who joined). */
  | { kind: 'bouncer'; displayName: string };

/** What every moderation request carries, whatever its action. */
export interface RequestBase {
  source: RequestSource;
  requestId: string;
  /** The chat the request came from; its binding names the call. Absent for webhook calls named directly. */
  conversationId?: string;
  /** Where the chat's channel sends later messages; kept with the binding. */
  replyAddress?: ReplyAddress;
  /** The chat's tenant, as the channel gave it (for later messages to the chat). */
  tenantId?: string;
  actor: Actor;
  /**
   * The transport's idempotency keys for this request (webhooks), kept in its case: if the request
   * is cut off (a crash, a shutdown), the reconciler gives them up so that the sender's retry runs.
   */
  idempotencyKeys?: readonly string[];
  /**
   * Called once the request's change has opened its pending case, just before the upstream change
   * (a kick's DELETE): from then on the case id can be given out while the change goes on (a
   * webhook answers 202 with it). Not called for a request recorded as a finished case.
   */
  onCaseOpened?(caseId: number): void;
  /**
   * The transport's answer to an outcome, kept under `idempotencyKeys` in the transaction that
   * completes the request's case (`CaseStore.close`), so that the request ends in one write.
   */
  keptAnswer?: KeptAnswer;
}

/** How a transport's answer is kept with a completed case (`RequestBase.keptAnswer`). */
export interface KeptAnswer {
  /** The answer to an outcome; `retryable` answers are never kept: the keys are given up instead. */
  answer(outcome: Outcome): { response: StoredResponse; retryable: boolean };
  /** Told once the answer to this very outcome is kept (or its keys given up) with the completed case. */
  kept(outcome: Outcome): void;
}

/** Whom to act on: a mentioned chat member, a directory user, a phone number (E.164), a label, or a participant id / CallSid. */
export type TargetRef =
  | { kind: 'mention'; chatId: string; displayName?: string }
  | { kind: 'user'; userId: string }
  | { kind: 'phone'; number: string }
  | { kind: 'label'; label: string }
  | { kind: 'participant'; participantId: string; displayName?: string };

/** A call named directly (webhooks), instead of through the chat's binding. */
export type CallRef =
  | { kind: 'conversation'; conversationId: string }
  /** A provider's call by its id or name (Teams: Bouncer's call id; Twilio: ConferenceSid or friendly name). */
  | { kind: 'call'; provider: ProviderKind; idOrName: string };

/** What `/bind` names instead of the chat's own meeting. */
export type BindTarget =
  /** Another meeting, by its join link. */
  | { kind: 'link'; provider: ProviderKind; url: string }
  /** A provider's call by its id or name (Twilio: ConferenceSid or friendly name). */
  | { kind: 'named'; provider: ProviderKind; idOrName: string };

/** What every action on one person in a call carries: whom, why, and in which call. */
export interface PersonRequestBase extends RequestBase {
  target: TargetRef;
  reason?: string;
  /** Names the call directly; otherwise the call bound to `conversationId` (joined on demand where the provider can). */
  call?: CallRef;
  /** The call a card button was made for: when the chat's call has changed, the card is stale. */
  expectedCallId?: string;
  /** Resolve and authorize, but change nothing; audited as a dry run. */
  dryRun?: boolean;
}

export interface KickRequest extends PersonRequestBase {
  action: 'kick';
}

/** `/mute @person` and `/unmute @person`: a server mute of one participant, or its end. */
export interface MuteRequest extends PersonRequestBase {
  action: 'mute' | 'unmute';
}

/** `/warn @person <reason>`: a private notice to one participant. */
export interface WarnRequest extends PersonRequestBase {
  action: 'warn';
  reason: string;
}

/** A request that acts on one person in a call. */
export type PersonRequest = KickRequest | MuteRequest | WarnRequest;

export interface BindRequest extends RequestBase {
  action: 'bind';
  conversationId: string;
  /** Bind to this instead of the chat's own meeting. */
  target?: BindTarget;
}

export interface UnbindRequest extends RequestBase {
  action: 'unbind';
  conversationId: string;
}

/** `/moderators add|remove @person`: change who the chat's named moderators are. */
export interface ModeratorRequest extends RequestBase {
  action: 'moderator_add' | 'moderator_remove';
  /** The person, as mentioned in the chat. */
  target: Extract<TargetRef, { kind: 'mention' }>;
}

/** `/ban`: remove someone now, and keep them out of the chat's calls (or every call) until lifted or expired. */
export interface BanRequest extends RequestBase {
  action: 'ban';
  target: TargetRef;
  reason?: string;
  /** How long the ban lasts; absent: until lifted. */
  durationMs?: number;
  /** Every call Bouncer moderates, not only the chat's (admins only). */
  everywhere: boolean;
  /** Names the call directly; otherwise the call bound to `conversationId` (joined on demand where the provider can). */
  call?: CallRef;
  /** The call a card button was made for: when the chat's call has changed, the card is stale. */
  expectedCallId?: string;
  /** Resolve and authorize, but neither ban nor remove anyone; audited as a dry run. */
  dryRun?: boolean;
}

/**
 * `/unban`: lift the active bans naming someone, or one ban by its case number, among the bans of
 * the request's chat (`conversationId`, or the chat bound to the call a webhook names in `call`)
 * and the everywhere bans.
 */
export interface UnbanRequest extends RequestBase {
  action: 'unban';
  ban: { kind: 'case'; caseId: number } | { kind: 'target'; target: Exclude<TargetRef, { kind: 'participant' }> };
  reason?: string;
  /** Names the call directly (webhooks): its bound chat's bans are the ones looked at. */
  call?: CallRef;
  /** Find the bans that would be lifted, lift none; audited as a dry run. */
  dryRun?: boolean;
}

/** `/reason <n> <text>`: replace the reason of case `caseId`, keeping the one it replaces. */
export interface EditReasonRequest extends RequestBase {
  action: 'edit_reason';
  caseId: number;
  reason: string;
}

/** `/lockdown [on|off]`: close the call's door (or open it again, restoring what the lockdown changed). */
export interface LockdownRequest extends RequestBase {
  action: 'lockdown' | 'unlock';
  /** Names the call directly (webhooks, raid mode); otherwise the call bound to `conversationId`. */
  call?: CallRef;
  /** Turn the meeting chat off too (Teams `--chat`). */
  chat?: boolean;
  /** Mute every caller who does not moderate (Twilio `--mute`). */
  mute?: boolean;
  /** Set by raid mode only (Bouncer's own, never a transport's): the joins that set it off. */
  trigger?: { joins: number; windowMs: number };
}

/** `/modlog here` and `/modlog off`: make this chat a mod-log channel, or stop it being one. */
export interface ModLogChannelRequest extends RequestBase {
  action: 'modlog_on' | 'modlog_off';
  conversationId: string;
}

export type ModerationRequest =
  | KickRequest
  | MuteRequest
  | WarnRequest
  | BindRequest
  | UnbindRequest
  | ModeratorRequest
  | BanRequest
  | UnbanRequest
  | EditReasonRequest
  | ModLogChannelRequest
  | LockdownRequest;

export type ReadView =
  | { kind: 'status' }
  | { kind: 'roster' }
  | { kind: 'modlog'; limit: number }
  | { kind: 'moderators' }
  | { kind: 'bans' }
  /** `/case <n>`: one case, with its reason's history. */
  | { kind: 'case'; caseId: number }
  /** `/cases @person`: the cases against a person, across the chats the asker moderates. */
  | { kind: 'cases_against'; target: Extract<TargetRef, { kind: 'mention' }>; limit: number };

/** What read-only views answer (not audited: nothing changes). */
export type ReadResult =
  | {
      kind: 'status';
      binding?: CallBinding;
      live: boolean;
      rosterSize: number;
      /** Every provider Bouncer knows, in display order, and whether it is configured. */
      providers: Array<{ kind: ProviderKind; configured: boolean }>;
      /** Tenant setup steps this chat's recent actions failed for, not since fixed by a success (newest first). */
      setupHints: UpstreamHint[];
      /** The call's lockdown, when it is on. */
      lockdown?: Lockdown;
    }
  | {
      kind: 'roster';
      binding?: CallBinding;
      /** The first people of the call in roster order (by name), at most `ROSTER_SHOWN`. */
      participants: Participant[];
      /** How many people the call has (bots left out): more than shown in a big meeting. */
      total: number;
      /** The call's lockdown, when it is on (the card shows a banner). */
      lockdown?: Lockdown;
    }
  | { kind: 'modlog'; cases: AuditCase[] }
  /** Who moderates the chat's meeting: the roles that do (MODERATOR_ROLES) and the people named. */
  | { kind: 'moderators'; roles: MeetingRole[]; named: NamedModerator[] }
  /** The chat's active bans and the everywhere bans, newest first. */
  | { kind: 'bans'; bans: Ban[] }
  /** One case; `edits` is its reason's history, oldest first (the first `previous` is the original). */
  | { kind: 'case'; case: AuditCase; edits: ReasonEdit[] }
  /** No case has that number (`hidden` false), or it belongs to a chat the asker does not moderate (`hidden`). */
  | { kind: 'no_case'; caseId: number; hidden: boolean }
  /** The cases against a person the asker may see, newest first (`more`: there may be older ones). */
  | { kind: 'cases_against'; target: TargetSummary; cases: AuditCase[]; more: boolean }
  | { kind: 'denied'; reason: DenialReason }
  | Extract<Unrecorded, { kind: 'upstream_failed' }>;

/** An outcome before it is recorded as a case. */
export type Unrecorded = DistributiveOmit<Outcome, 'caseId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
