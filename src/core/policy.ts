import type { MeetingRole } from './ports.js';
import type { DenialReason } from './outcome.js';

export interface KickPolicyInput {
  actorRole: MeetingRole;
  actorIsAdmin: boolean;
  /** The actor and the target are the same person. */
  targetIsActor: boolean;
  targetIsBot: boolean;
  targetIsOrganizer: boolean;
}

/**
 * Who may remove whom. Organizers, presenters and configured admins may kick; an unknown role is
 * a denial; nobody kicks themselves or the bot; a presenter cannot kick the organizer.
 */
export function decideKick(p: KickPolicyInput): { allowed: true } | { allowed: false; reason: DenialReason } {
  if (p.targetIsBot) return { allowed: false, reason: 'bot' };
  if (p.targetIsActor) return { allowed: false, reason: 'self' };
  if (p.actorIsAdmin) return { allowed: true };
  if (p.actorRole === 'unknown') return { allowed: false, reason: 'unknown_role' };
  if (p.actorRole === 'attendee') return { allowed: false, reason: 'not_permitted' };
  if (p.actorRole === 'presenter' && p.targetIsOrganizer) return { allowed: false, reason: 'organizer' };
  return { allowed: true };
}
