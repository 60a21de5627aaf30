import type { DenialReason, NonRemovalAction } from '../domain/outcome.js';
import type { MeetingRole } from '../ports/chat-directory.js';
import type { Actor, CallRef } from './requests.js';

/**
 * The only place Bouncer decides who may do what. Commands, card buttons and webhook calls all
 * ask `decide`; nothing else compares roles or admin lists.
 */

/** What a command requires of whoever runs it (checked by the command runner). */
export type Permission = 'anyone' | 'moderator';

/** What the asker is, as far as authorization goes. */
export interface Authority {
  /** A configured admin (ADMIN_USER_IDS), or a system whose verified credential grants admin rights. */
  admin: boolean;
  /** The actor's role in the chat's meeting ('unknown' when it cannot be established). */
  role: MeetingRole;
  /** The meeting roles that moderate (MODERATOR_ROLES; by default organizer and co-organizer). */
  moderatorRoles: ReadonlySet<MeetingRole>;
  /** Named a moderator of this chat by its organizer (`/moderators add`). */
  named: boolean;
  /** The actor's Entra object id (lower case), when known. */
  userId?: string;
  /** The calls a system's credential may act on (a scoped webhook secret); absent = any call. */
  callScope?: readonly CallRef[];
}

export type Decision = { allowed: true } | { allowed: false; reason: DenialReason };

export type Question =
  /** May the actor use a command (or card button) with this permission here? */
  | { kind: 'use'; permission: Permission; authority: Authority }
  /**
   * May the actor bind a meeting named by its link? Its organizer and admins may, from any chat.
   * The organizer is the one the backend confirmed, never the link's own Oid: unconfirmed, only admins.
   */
  | { kind: 'bind_link'; authority: Authority; confirmedOrganizerUserId?: string }
  /**
   * May the actor bind this chat to a call named by id or name (a Twilio conference)? Admins may
   * bind any; moderators only in a chat an administrator configured the call for.
   */
  | { kind: 'bind_call'; authority: Authority; configuredForChat: boolean }
  /** May the actor remove this target? */
  | { kind: 'remove'; authority: Authority; target: TargetFacts }
  /** May the actor mute, unmute or warn this target? By the same rules as a removal. */
  | { kind: 'act_on_person'; action: NonRemovalAction; authority: Authority; target: TargetFacts }
  /** May the actor name or remove this chat's moderators? Its organizer and co-organizers, and admins. */
  | { kind: 'name_moderators'; authority: Authority }
  /**
   * May the actor ban someone from every call Bouncer moderates (`/ban … --everywhere`), or lift
   * such a ban? Admins only (the removal rules apply as well).
   */
  | { kind: 'ban_everywhere'; authority: Authority }
  /**
   * May the actor moderate the call a request names (webhooks)? Only if its credential's scope
   * names that call, as the request names it (no scope: any call); then as `use` by a moderator.
   */
  | { kind: 'moderate_call'; authority: Authority; call?: CallRef }
  /**
   * May the actor make a chat a mod-log channel (every case from every chat posted there), or stop
   * it being one? Admins only: the channel shows cases of chats its members may not moderate.
   */
  | { kind: 'configure_modlog'; authority: Authority }
  /**
   * May the actor see a case (`/case`, `/cases @person`)? Whoever moderates the chat the case
   * belongs to, with `authority` established in that chat (not the one asked from), and admins. A
   * case of no chat (a webhook that named its call directly): admins only.
   */
  | { kind: 'read_case'; authority: Authority }
  /** May the actor edit a case's reason (`/reason`)? As `read_case`: its chat's moderators, and admins. */
  | { kind: 'edit_reason'; authority: Authority }
  /**
   * May the actor lock a call down, or end its lockdown (`/lockdown`)? Its organizer and
   * co-organizers, the moderators the organizer named, and admins (a system by its credential, only
   * for a call its scope names): presenters do not, whatever MODERATOR_ROLES says.
   */
  | { kind: 'lockdown'; authority: Authority; call?: CallRef; raidMode?: boolean };

/** What is known about the target of an action on a person; unknown facts are false. */
export interface TargetFacts {
  isActor: boolean;
  isBot: boolean;
  isOrganizer: boolean;
}

const ALLOWED: Decision = { allowed: true };

/**
 * Who moderates: admins, the people the organizer named, and the meeting roles MODERATOR_ROLES
 * lists (organizer and co-organizer by default; presenters only when it says so, because Teams'
 * default "Who can present: Everyone" makes every attendee a presenter). An unknown role is a
 * denial. Nobody removes, mutes, unmutes or warns themselves or the bot (said first, so the reply
 * names the real reason); only admins do any of that to the organizer.
 */
export function decide(q: Question): Decision {
  switch (q.kind) {
    case 'use':
      return q.permission === 'anyone' ? ALLOWED : moderates(q.authority);
    case 'bind_link': {
      const { authority } = q;
      if (authority.admin) return ALLOWED;
      const organizer = q.confirmedOrganizerUserId?.toLowerCase();
      return !!organizer && authority.userId === organizer ? ALLOWED : { allowed: false, reason: 'not_permitted' };
    }
    case 'bind_call': {
      const moderator = moderates(q.authority);
      if (!moderator.allowed || q.authority.admin || q.configuredForChat) return moderator;
      return { allowed: false, reason: 'call_not_for_chat' };
    }
    case 'remove':
    case 'act_on_person': {
      const { authority, target } = q;
      if (target.isBot) return { allowed: false, reason: 'bot' };
      if (target.isActor) return { allowed: false, reason: 'self' };
      const moderator = moderates(authority);
      if (!moderator.allowed || authority.admin) return moderator;
      if (target.isOrganizer) return { allowed: false, reason: 'organizer' };
      return ALLOWED;
    }
    case 'name_moderators': {
      const { authority } = q;
      if (authority.admin || authority.role === 'organizer' || authority.role === 'coorganizer') return ALLOWED;
      return { allowed: false, reason: 'not_organizer' };
    }
    case 'ban_everywhere':
      return q.authority.admin ? ALLOWED : { allowed: false, reason: 'not_admin' };
    case 'lockdown': {
      const { authority } = q;
      // Raid mode is Bouncer's own standing order, which an administrator turned on (RAID_MODE_JOINS).
      if (q.raidMode) return ALLOWED;
      if (!inScope(authority.callScope, q.call)) return { allowed: false, reason: 'not_permitted' };
      if (authority.admin || authority.named || authority.role === 'organizer' || authority.role === 'coorganizer') return ALLOWED;
      return authority.role === 'unknown' ? { allowed: false, reason: 'unknown_role' } : { allowed: false, reason: 'not_permitted' };
    }
    case 'moderate_call':
      return inScope(q.authority.callScope, q.call) ? moderates(q.authority) : { allowed: false, reason: 'not_permitted' };
    case 'configure_modlog':
      return q.authority.admin ? ALLOWED : { allowed: false, reason: 'admins_only' };
    case 'read_case':
    case 'edit_reason':
      return moderates(q.authority).allowed ? ALLOWED : { allowed: false, reason: 'not_case_moderator' };
  }
}

/** Whether a call, as a request names it, is one a scope names (exactly; a Twilio SID in any letter case). */
function inScope(scope: readonly CallRef[] | undefined, call: CallRef | undefined): boolean {
  if (!scope) return true;
  if (!call) return false;
  return scope.some((allowed) => {
    if (allowed.kind === 'conversation' || call.kind === 'conversation') {
      return allowed.kind === 'conversation' && call.kind === 'conversation' && allowed.conversationId === call.conversationId;
    }
    if (allowed.provider !== call.provider) return false;
    const sid = /^CF[0-9a-f]{32}$/i;
    return sid.test(allowed.idOrName) && sid.test(call.idOrName)
      ? allowed.idOrName.toLowerCase() === call.idOrName.toLowerCase()
      : allowed.idOrName === call.idOrName;
  });
}

function moderates(a: Authority): Decision {
  if (a.admin || a.named) return ALLOWED;
  if (a.role !== 'unknown' && a.moderatorRoles.has(a.role)) return ALLOWED;
  return a.role === 'unknown' ? { allowed: false, reason: 'unknown_role' } : { allowed: false, reason: 'not_permitted' };
}

/** The authority of an actor: admins by configuration or by a verified system credential. */
export function authorityOf(
  actor: Actor,
  role: MeetingRole,
  rules: { adminUserIds: ReadonlySet<string>; moderatorRoles: ReadonlySet<MeetingRole>; named?: boolean },
): Authority {
  const { adminUserIds, moderatorRoles } = rules;
  if (actor.kind === 'system') return { admin: true, role, moderatorRoles, named: false, callScope: actor.credential.scope };
  // Bouncer's own standing orders (a ban's enforcement) are never authorized as a request.
  if (actor.kind === 'bouncer') return { admin: false, role, moderatorRoles, named: false };
  const userId = actor.userId?.toLowerCase();
  return { admin: !!userId && adminUserIds.has(userId), role, moderatorRoles, named: rules.named ?? false, userId };
}
