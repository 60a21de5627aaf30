import type { TargetSummary } from '../../domain/outcome.js';
import type { Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { ChatUser } from '../../ports/chat-directory.js';
import type { ModerationDeps } from '../deps.js';
import type { TargetRef } from '../requests.js';

/**
 * The participants a target names: from the roster, else (cold or stale) from a list call.
 * `verify` asks for a look even where the backend could act on the target unseen (a dry run).
 */
export async function findParticipants(
  deps: Pick<ModerationDeps, 'store' | 'phones' | 'logger'>,
  provider: CallProvider,
  callId: string,
  target: TargetRef,
  user: ChatUser | undefined,
  verify: boolean,
): Promise<Participant[]> {
  const roster = await deps.store.roster.list(callId);
  let matcher = participantMatcher(target, user, []);
  let found = roster.filter(matcher);
  // A label addresses the participant by itself where the backend allows: no list call, the
  // removal will tell (unless nothing will be removed, as in a dry run: then look).
  if (found.length > 0 || (target.kind === 'label' && provider.capabilities.removeByLabel && !verify)) return found;
  // Phone callers can be matched to a person through their profile numbers (one lookup).
  if ((target.kind === 'mention' || target.kind === 'user') && provider.capabilities.phoneCallers && user?.userId) {
    matcher = participantMatcher(target, user, await profilePhones(deps, user.userId));
    found = roster.filter(matcher);
    if (found.length > 0) return found;
  }
  const listed = await provider.listParticipants(callId);
  await deps.store.roster.upsert(callId, listed);
  return listed.filter(matcher);
}

/** Profile phone numbers, or none when the directory is missing or fails (the action goes on). */
async function profilePhones(deps: Pick<ModerationDeps, 'phones' | 'logger'>, userId: string): Promise<string[]> {
  if (!deps.phones) return [];
  try {
    return await deps.phones.getPhoneNumbers(userId);
  } catch (err) {
    deps.logger.warn({ err, userId }, "could not read the user's phone numbers");
    return [];
  }
}

/**
 * Which roster entries a target names. A mention matches a Teams user by Entra id, or a phone
 * participant whose label is the user's id, UPN or display name (case-insensitive) or whose number
 * is one of the user's phone numbers.
 */
export function participantMatcher(target: TargetRef, user: ChatUser | undefined, userPhones: string[]) {
  switch (target.kind) {
    case 'phone':
      return (p: Participant) => !!p.phoneNumbers?.includes(target.number);
    case 'label':
      return (p: Participant) => p.label === target.label;
    case 'participant':
      return (p: Participant) => p.participantId === target.participantId;
    case 'user':
    case 'mention': {
      const userId = user?.userId?.toLowerCase();
      const names = new Set(
        [userId, user?.userPrincipalName, user?.displayName, target.kind === 'mention' ? target.displayName : undefined]
          .filter((n): n is string => !!n)
          .map((n) => n.toLowerCase()),
      );
      return (p: Participant) =>
        (p.kind === 'user' && !!userId && p.identityId?.toLowerCase() === userId) ||
        (p.label !== undefined && names.has(p.label.toLowerCase())) ||
        (p.kind !== 'user' && !!p.phoneNumbers?.some((n) => userPhones.includes(n)));
    }
  }
}

/** What the request itself says about its target, before any lookup. */
export function summarize(target: TargetRef): TargetSummary {
  switch (target.kind) {
    case 'mention':
      return { displayName: target.displayName };
    case 'user':
      return { userId: target.userId.toLowerCase() };
    case 'phone':
      return { phoneNumber: target.number };
    case 'label':
      return { label: target.label };
    case 'participant':
      return { participantId: target.participantId, displayName: target.displayName };
  }
}

/** The target's summary with what the directory said about the person. */
export function withUser(summary: TargetSummary, user: ChatUser | undefined): TargetSummary {
  if (!user) return summary;
  return { ...summary, userId: user.userId?.toLowerCase(), displayName: user.displayName ?? summary.displayName };
}
