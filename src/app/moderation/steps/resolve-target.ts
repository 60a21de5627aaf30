import type { TargetSummary } from '../../domain/outcome.js';
import { compareRosterOrder, type Participant } from '../../domain/participant.js';
import type { CallProvider, UserProfile } from '../../ports/call-provider.js';
import type { ChatUser } from '../../ports/chat-directory.js';
import type { RosterStore } from '../../ports/store.js';
import type { ModerationDeps } from '../deps.js';
import type { TargetRef } from '../requests.js';
import { listingsOf } from './roster-listings.js';

/**
 * The participants a target names: from the roster, else (cold or stale) from a list call, which
 * concurrent misses in the call share and which is trusted for `LISTING_FRESH_MS` after it.
 * `verify` asks for a look even where the backend could act on the target unseen (a dry run).
 * The roster is searched by index (`lookUpTarget`), so a kick costs the same in any size of call.
 */
export async function findParticipants(
  deps: Pick<ModerationDeps, 'store' | 'phones' | 'logger' | 'clock'>,
  provider: CallProvider,
  callId: string,
  target: TargetRef,
  user: ChatUser | undefined,
  verify: boolean,
): Promise<Participant[]> {
  const roster = deps.store.roster;
  let phones: string[] = [];
  let found = await lookUpTarget(roster, callId, target, user, phones);
  // A label addresses the participant by itself where the backend allows: no list call, the
  // removal will tell (unless nothing will be removed, as in a dry run: then look).
  if (found.length > 0 || (target.kind === 'label' && provider.capabilities.removeByLabel && !verify)) return found;
  // Phone callers can be matched to a person through their profile numbers (one lookup).
  if ((target.kind === 'mention' || target.kind === 'user') && provider.capabilities.phoneCallers && user?.userId) {
    phones = await profilePhones(deps, user.userId);
    if (phones.length > 0) {
      found = await lookUpTarget(roster, callId, target, user, phones);
      if (found.length > 0) return found;
    }
  }
  // A miss lists the call, once per call at a time and not again while that listing is fresh
  // (roster-listings.ts): within the window the roster as it stands answers (`found`, empty).
  const listed = await listingsOf(provider, deps.clock).refresh(provider, roster, callId);
  return listed ? listed.filter(participantMatcher(target, user, phones)) : found;
}

/**
 * The roster entries a target names, found by index: exactly `roster.list(callId)` filtered with
 * `participantMatcher(target, user, userPhones)`, in roster order, without reading the whole roster.
 */
export async function lookUpTarget(
  roster: RosterStore,
  callId: string,
  target: TargetRef,
  user: ChatUser | undefined,
  userPhones: readonly string[],
): Promise<Participant[]> {
  switch (target.kind) {
    case 'phone':
      return roster.findByPhone(callId, target.number);
    case 'label':
      return roster.findByLabel(callId, target.label);
    case 'participant': {
      const p = await roster.findByParticipantId(callId, target.participantId);
      return p ? [p] : [];
    }
    case 'user':
    case 'mention': {
      // The matcher's three ways of naming a person, each an index search.
      const { userId, names } = personNames(user);
      const found = await Promise.all([
        userId ? roster.findByIdentity(callId, userId).then((ps) => ps.filter((p) => p.kind === 'user')) : [],
        ...[...names].map((name) => roster.findByLabel(callId, name, { ignoreCase: true })),
        ...[...new Set(userPhones)].map((n) => roster.findByPhone(callId, n).then((ps) => ps.filter((p) => p.kind !== 'user'))),
      ]);
      const byId = new Map<string, Participant>();
      for (const p of found.flat()) byId.set(p.participantId, p);
      return [...byId.values()].sort(compareRosterOrder);
    }
  }
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
 * participant whose label is the user's id, UPN or directory name (case-insensitive) or whose number
 * is one of the user's phone numbers. Never the mention's own text: its display name is whatever
 * the asker's client put there, and may be someone else's label.
 */
export function participantMatcher(target: TargetRef, user: ChatUser | undefined, userPhones: readonly string[]) {
  switch (target.kind) {
    case 'phone':
      return (p: Participant) => !!p.phoneNumbers?.includes(target.number);
    case 'label':
      return (p: Participant) => p.label === target.label;
    case 'participant':
      return (p: Participant) => p.participantId === target.participantId;
    case 'user':
    case 'mention': {
      const { userId, names } = personNames(user);
      return (p: Participant) =>
        (p.kind === 'user' && !!userId && p.identityId?.toLowerCase() === userId) ||
        (p.label !== undefined && names.has(p.label.toLowerCase())) ||
        (p.kind !== 'user' && !!p.phoneNumbers?.some((n) => userPhones.includes(n)));
    }
  }
}

/** A mentioned user's id and the names a phone leg's label may carry: id, UPN and directory name, lower-cased. */
function personNames(user: ChatUser | undefined): { userId: string | undefined; names: ReadonlySet<string> } {
  const userId = user?.userId?.toLowerCase();
  const names = new Set(
    [userId, user?.userPrincipalName, user?.displayName]
      .filter((n): n is string => !!n)
      .map((n) => n.toLowerCase()),
  );
  return { userId, names };
}

/** What tells that a call participant is a given person: ids, UPN and directory name (lower case), and profile numbers. */
export interface PersonKeys {
  userId: string;
  names: ReadonlySet<string>;
  phones: readonly string[];
}

/**
 * A person's keys from the directory (Graph profile), or their id alone when there is no directory
 * or it fails (logged): a phone leg is then theirs only if its label is their object id.
 */
export async function personKeys(deps: Pick<ModerationDeps, 'phones' | 'logger'>, userId: string): Promise<PersonKeys> {
  const id = userId.toLowerCase();
  let profile: UserProfile | undefined;
  try {
    profile = deps.phones?.getProfile
      ? await deps.phones.getProfile(id)
      : deps.phones && { phoneNumbers: await deps.phones.getPhoneNumbers(id) };
  } catch (err) {
    deps.logger.warn({ err, userId: id }, "could not read the user's profile");
  }
  const names = [id, profile?.userPrincipalName, profile?.displayName].filter((n): n is string => !!n).map((n) => n.toLowerCase());
  return { userId: id, names: new Set(names), phones: profile?.phoneNumbers ?? [] };
}

/** Whether a participant is this person: a Teams user by id, any other leg by its label or number. */
export function isPersonLeg(p: Participant, keys: PersonKeys): boolean {
  if (p.kind === 'user') return p.identityId?.toLowerCase() === keys.userId;
  return (p.label !== undefined && keys.names.has(p.label.toLowerCase())) || !!p.phoneNumbers?.some((n) => keys.phones.includes(n));
}

/** Whether a target names this person by itself (a label or number of theirs), whatever the roster says. */
export function targetNamesPerson(target: TargetRef, keys: PersonKeys): boolean {
  switch (target.kind) {
    case 'label':
      return keys.names.has(target.label.toLowerCase());
    case 'phone':
      return keys.phones.includes(target.number);
    case 'user':
      return target.userId.toLowerCase() === keys.userId;
    case 'mention':
    case 'participant':
      return false;
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
