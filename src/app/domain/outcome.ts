import type { UpstreamHint } from './errors.js';
import type { ProviderKind } from './participant.js';

/**
 * What a moderation request came to. Expected results are values, never exceptions
 * (DESIGN.md, habit 1). Every outcome carries the audit case it was recorded as, and, for an
 * action on a person other than a removal or a lockdown, which one (`action`: the words of a reply
 * depend on it).
 */
export type Outcome = OutcomeBody & { action?: StampedAction };

/** The actions whose outcomes say which they were: those on a person other than a removal, and a lockdown's two. */
export type StampedAction = NonRemovalAction | 'lockdown' | 'unlock';

/** The actions on one person in a call (`/kick`, `/mute`, `/unmute`, `/warn`). */
export type PersonAction = 'kick' | 'mute' | 'unmute' | 'warn';
/** The actions on a person that remove nobody. */
export type NonRemovalAction = Exclude<PersonAction, 'kick'>;

/** Whether a private notice reached its person (a removal's `notice`, NOTIFY_REMOVED). */
export type NoticeStatus = 'sent' | 'failed';

/**
 * Why a person cannot be sent a private notice at all, an expected answer rather than an outage:
 * `not_a_chat_member`: they are not a member of the meeting's chat (guests, dial-in callers, most
 * raiders), so the chat's channel has no address to notify them at.
 */
export type NotReachableReason = 'not_a_chat_member';

/** How a lockdown keeps a call's door shut: the meeting's lobby (Teams' meeting options), or by removing whoever joins (Twilio). */
export type LockdownDoor = 'lobby' | 'turn_away';

/** What a backend cannot do, as an `unsupported` outcome names it. */
export type Capability =
  | 'bind'
  | 'find call'
  | 'join'
  | 'mute'
  /** Unmuting someone else (Teams: only the person can unmute themselves). */
  | 'unmute'
  /** A private notice to one participant (a warning, or why they are removed). */
  | 'private notice'
  /** A ban on someone the backend knows by nothing that lasts (a guest). */
  | 'ban someone with no lasting identity (a guest)';

type OutcomeBody =
  | {
      kind: 'removed';
      caseId: number;
      target: TargetSummary;
      callId: string;
      participantIds: string[];
      /** False when the removal happened but completing its case failed (the case stays pending). */
      recorded?: false;
      /** The notice sent just before the removal (NOTIFY_REMOVED); absent when none was to be sent. */
      notice?: NoticeStatus;
    }
  /** Muted by the backend (a server mute: the person cannot unmute themselves on Teams). */
  | { kind: 'muted'; caseId: number; target: TargetSummary; callId: string; participantIds: string[] }
  | { kind: 'unmuted'; caseId: number; target: TargetSummary; callId: string; participantIds: string[] }
  /** A private warning was delivered to the person (Teams: a targeted meeting notification; Twilio: an announcement). */
  | { kind: 'warned'; caseId: number; target: TargetSummary; callId: string; participantIds: string[] }
  /** Nothing was sent: the person cannot be notified privately (`/warn`), for `why`. */
  | { kind: 'not_reachable'; caseId: number; target: TargetSummary; callId: string; why: NotReachableReason }
  | { kind: 'already_gone'; caseId: number; target: TargetSummary; callId: string }
  /** A removal cut off (a crash or shutdown) before its DELETE: found by reconciliation, the person still in the call. */
  | { kind: 'interrupted'; caseId: number; callId: string }
  /**
   * What the request would have done, done nothing (webhooks' `dryRun`): the participants it would
   * act on (`callId` empty for a ban with no call to look in), and for an unban the bans it would lift.
   */
  | { kind: 'dry_run'; caseId: number; target: TargetSummary; callId: string; participantIds: string[]; banCaseIds?: number[] }
  | { kind: 'bound'; caseId: number; provider: ProviderKind; callId: string; callName?: string; alreadyBound: boolean }
  | { kind: 'unbound'; caseId: number; provider: ProviderKind; callId: string; callName?: string }
  /** Named a moderator of the chat (`already`: they were one; nothing changed). */
  | { kind: 'moderator_added'; caseId: number; target: TargetSummary; already: boolean }
  /** No longer a named moderator of the chat (`wasNamed` false: they were not one; nothing changed). */
  | { kind: 'moderator_removed'; caseId: number; target: TargetSummary; wasNamed: boolean }
  /**
   * Kept out of the chat's calls (`everywhere`: of every call Bouncer moderates) until `expiresAt`
   * (absent: until lifted). `removed`: they were removed from the call now (`participantIds`);
   * false when they were not in it, or there was no call.
   */
  | {
      kind: 'banned';
      caseId: number;
      target: TargetSummary;
      everywhere: boolean;
      expiresAt?: string;
      callId?: string;
      participantIds: string[];
      removed: boolean;
      /** The notice sent just before the removal (NOTIFY_REMOVED); absent when none was to be sent. */
      notice?: NoticeStatus;
    }
  /** The active bans lifted (`banCaseIds`: the cases that made them; empty: there was none to lift). `asked`: the ban's case number, when the request gave one. */
  | { kind: 'unbanned'; caseId: number; target: TargetSummary; banCaseIds: number[]; asked?: number }
  /** A case's reason was replaced (`/reason`); `previous` is what it replaced (absent: it had none). Kept in the case's history. */
  | { kind: 'reason_edited'; caseId: number; editedCaseId: number; reason: string; previous?: string }
  /** No case has the number a request named (`asked`): nothing changed. */
  | { kind: 'case_not_found'; caseId: number; asked: number }
  /** The chat is now a mod-log channel (`enabled`), or no longer one; `changed` false: it already was (or was not). */
  | { kind: 'modlog_set'; caseId: number; enabled: boolean; changed: boolean }
  /**
   * The call is locked down: nobody new gets in (Teams: the lobby, mic and camera off, `chat`: chat
   * off; Twilio: new callers removed, `muted`: the callers muted now). `already`: it was locked
   * down before (what it saved then is kept). `trigger`: started by raid mode, on `joins` joins
   * within `windowMs`.
   */
  | {
      kind: 'locked';
      caseId: number;
      provider: ProviderKind;
      callId: string;
      /** How the door is kept shut: the meeting's own lobby (its options changed), or by removing whoever joins. */
      door: LockdownDoor;
      already: boolean;
      chat: boolean;
      mute: boolean;
      muted: string[];
      trigger?: { joins: number; windowMs: number };
    }
  /** The lockdown ended and what it changed was restored (`wasLocked` false: there was none; nothing changed). */
  | { kind: 'unlocked'; caseId: number; provider: ProviderKind; callId: string; door: LockdownDoor; wasLocked: boolean; lockdownCaseId?: number }
  | { kind: 'ambiguous_target'; caseId: number; target: TargetSummary; candidates: TargetSummary[] }
  | { kind: 'unsupported'; caseId: number; provider: ProviderKind; capability: Capability }
  | { kind: 'denied'; caseId: number; reason: DenialReason; target?: TargetSummary }
  | { kind: 'target_not_found'; caseId: number; target: TargetSummary; callId: string }
  | { kind: 'not_bound'; caseId: number; reason: NotBoundReason; /** The provider of a call named by id or name that was not found. */ provider?: ProviderKind }
  | { kind: 'not_configured'; caseId: number; missing: string[] }
  | {
      kind: 'upstream_failed';
      caseId: number;
      service: string;
      requestId?: string;
      /** The vendor's own error code and documentation link (Twilio: 20003 and its more_info). */
      code?: string;
      moreInfo?: string;
      retryable: boolean;
      /** A known cause with a fix an administrator can apply (e.g. the tenant's remove-participant policy). */
      hint?: UpstreamHint;
    };

export type OutcomeKind = OutcomeBody['kind'];

export type DenialReason =
  | 'not_permitted' // attendee, or not in the meeting
  | 'unknown_role' // the meeting role could not be established
  | 'self'
  | 'bot'
  | 'organizer' // a moderator who is no admin tried to act on the organizer
  | 'call_not_for_chat' // a moderator named a call (conference) not configured for this chat
  | 'not_organizer' // only the organizer (or a co-organizer, or an admin) names moderators
  | 'not_admin' // only admins (ban everywhere)
  | 'admins_only' // only admins (the mod-log channel)
  | 'not_case_moderator'; // a case of a chat the actor does not moderate

export type NotBoundReason =
  | 'not_a_meeting' // the chat has no meeting, so there is no call to join
  | 'join_timeout' // Bouncer asked to join but the call is not established yet
  | 'call_ended'
  | 'no_binding' // nothing to unbind, or a phone target in a chat bound to no conference
  | 'conference_not_found'
  | 'conference_not_in_progress'
  | 'card_stale' // a roster card's button for a call the chat is no longer bound to
  | 'invalid_join_link';

/** Who the request was about, for replies and the audit log. */
export interface TargetSummary {
  displayName?: string;
  /** Entra object id, when known. */
  userId?: string;
  label?: string;
  phoneNumber?: string;
  /** Teams participant id or Twilio CallSid. */
  participantId?: string;
}

/** Every outcome kind, for code that must check a kind read from outside (the store's rows). */
export const OUTCOME_KINDS = [
  'removed',
  'muted',
  'unmuted',
  'warned',
  'not_reachable',
  'already_gone',
  'interrupted',
  'dry_run',
  'bound',
  'unbound',
  'moderator_added',
  'moderator_removed',
  'banned',
  'unbanned',
  'reason_edited',
  'case_not_found',
  'modlog_set',
  'locked',
  'unlocked',
  'ambiguous_target',
  'unsupported',
  'denied',
  'target_not_found',
  'not_bound',
  'not_configured',
  'upstream_failed',
] as const satisfies readonly OutcomeKind[];

/** Fails to compile when an Outcome kind is missing from OUTCOME_KINDS. */
type _EveryOutcomeKindListed = [Exclude<OutcomeKind, (typeof OUTCOME_KINDS)[number]>] extends [never] ? true : never;
const _everyOutcomeKindListed: _EveryOutcomeKindListed = true;
