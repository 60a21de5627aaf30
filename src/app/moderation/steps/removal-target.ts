import type { PersonAction, TargetSummary } from '../../domain/outcome.js';
import type { CallBinding, Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { ChatUser } from '../../ports/chat-directory.js';
import type { ModerationAction } from '../../ports/store.js';
import { meetingProviderEntry, type ModerationDeps } from '../deps.js';
import { decide, type Authority, type Decision, type TargetFacts } from '../policy.js';
import type { CallRef, RequestBase, TargetRef, Unrecorded } from '../requests.js';
import { CaseRecorder } from './audit.js';
import type { Access, RequestScope } from './lookups.js';
import { resolveCall } from './resolve-call.js';
import { findParticipants, isPersonLeg, personKeys, summarize, targetNamesPerson, withUser, type PersonKeys } from './resolve-target.js';

/**
 * The steps every action on one person in a call shares (kick, ban, mute, unmute, warn): the early
 * refusals (`precheckPerson`) and the case (`personCase`); who the target is and whether the actor
 * may act on them (`identifyTarget`), where they are (`locateTarget`), whether the participants
 * found are one person the actor may act on (`vetMatches`), and what to act on (`participantsToAct`).
 * The policy's rules are a removal's (`decide({ kind: 'remove' })`) for a kick or a ban, and the
 * same rules asked as `act_on_person` for the others (`mayActOn`).
 */

/** The policy's answer for acting on a person: a removal, or another action by the same rules. */
export function mayActOn(action: PersonAction, authority: Authority, target: TargetFacts): Decision {
  return decide(action === 'kick' ? { kind: 'remove', authority, target } : { kind: 'act_on_person', action, authority, target });
}

/**
 * What an action on a person can be refused for before anything is looked up: the bot or the actor
 * themselves as the target, or no calling backend configured at all.
 */
export function precheckPerson(req: Pick<RemovalRequest, 'target' | 'actor'>, scope: RequestScope, action: PersonAction = 'kick'): Unrecorded | undefined {
  const t = req.target;
  if (t.kind === 'mention') {
    const actorChatId = req.actor.kind === 'member' ? req.actor.chatId : undefined;
    const early = mayActOn(
      action,
      { admin: false, role: 'unknown', moderatorRoles: new Set(), named: false },
      { isBot: scope.directory.isBot(t.chatId), isActor: !!actorChatId && t.chatId === actorChatId, isOrganizer: false },
    );
    if (!early.allowed && (early.reason === 'bot' || early.reason === 'self')) return { kind: 'denied', reason: early.reason, target: summarize(t) };
  }
  if (!scope.deps.providers.some((p) => p.provider)) {
    return { kind: 'not_configured', missing: meetingProviderEntry(scope.deps)?.missing ?? [] };
  }
  return undefined;
}

/**
 * The action's audit case, naming its target as far as the request says, and with `lookUp` as the
 * directory knows it too (when that lookup fails, the request's own words are kept).
 */
export async function personCase(
  req: RemovalRequest & { reason?: string },
  scope: RequestScope,
  action: ModerationAction,
  lookUp: boolean,
): Promise<{ recorder: CaseRecorder; summary: TargetSummary }> {
  const t = req.target;
  const user = lookUp && t.kind === 'mention' ? await scope.user(t.chatId).catch(() => undefined) : undefined;
  const summary = withUser(summarize(t), user);
  return { recorder: new CaseRecorder(scope.deps, req, action, req.reason).about(summary, t), summary };
}

/** A request that acts on someone in a chat's call, or in a call it names. */
export interface RemovalRequest extends RequestBase {
  target: TargetRef;
  /** Names the call directly; otherwise the call bound to `conversationId` (joined on demand where the provider can). */
  call?: CallRef;
  /** The call a card button was made for: when the chat's call has changed, the card is stale. */
  expectedCallId?: string;
}

/** The target as far as the request and the directory say, and the actor's access. */
export interface IdentifiedTarget {
  access: Access;
  /** The mentioned (or named) person's directory identity. */
  user?: ChatUser;
  summary: TargetSummary;
  /** For targets named by label, number or id: who the actor and the organizer are on the phone (their directory profiles). */
  people?: Promise<[PersonKeys | undefined, PersonKeys | undefined]>;
}

/**
 * Looks the target and the actor up together (the target's identity; the actor's role, the
 * meeting and the binding) and applies the policy's rules for `action` to what is known so far.
 * Names the target in `recorder` as it learns who they are. Outages are thrown.
 */
export async function identifyTarget(
  scope: RequestScope,
  req: RemovalRequest,
  recorder: CaseRecorder,
  action: PersonAction = 'kick',
): Promise<IdentifiedTarget | { refused: Unrecorded }> {
  const { deps } = scope;
  const t = req.target;
  let summary = summarize(t);
  recorder.about(summary, t);
  // Independent lookups run together: target identity, actor role, meeting, binding.
  const [user, access] = await Promise.all([
    t.kind === 'mention' ? scope.user(t.chatId) : t.kind === 'user' ? { userId: t.userId } : undefined,
    scope.access(),
  ]);
  if (user) {
    summary = withUser(summary, user);
    recorder.about(summary, t);
  }
  const targetUserId = user?.userId?.toLowerCase();
  const early = mayActOn(action, access.authority, {
    isActor: !!targetUserId && targetUserId === access.authority.userId,
    isBot: false,
    isOrganizer: !!targetUserId && targetUserId === access.organizerUserId?.toLowerCase(),
  });
  if (!early.allowed) return { refused: { kind: 'denied', reason: early.reason, target: summary } };

  // A target named by label, number or id may be a person's phone leg: who the organizer and the
  // actor are on the phone is looked up alongside the call (their directory profiles).
  const actorId = access.authority.userId;
  const organizer = access.organizerUserId?.toLowerCase();
  const keysOf = (id: string | undefined) => (id ? personKeys(deps, id) : Promise.resolve(undefined));
  const people: IdentifiedTarget['people'] =
    t.kind === 'label' || t.kind === 'phone' || t.kind === 'participant'
      ? Promise.all([keysOf(actorId), organizer === actorId ? Promise.resolve(undefined) : keysOf(organizer)])
      : undefined;
  // Awaited later, or never when the call cannot be had; a failure there is logged by personKeys.
  people?.catch(() => undefined);
  return { access, user, summary, people };
}

export type LocatedTarget =
  | { kind: 'located'; provider: CallProvider; binding: CallBinding; matches: Participant[] }
  /** There is no live call to look in (not bound, not configured, unsupported, the join timed out…). */
  | { kind: 'no_call'; outcome: Unrecorded };

/**
 * The call (the binding, or joining the chat's meeting) and the participants the target names in
 * it; the call goes into `recorder`'s case as soon as it is known. `verify` asks for a look even
 * where the backend could act on the target unseen (a dry run). `able` refuses a provider that
 * cannot do the action before anything is asked of it, a join included. Outages are thrown.
 */
export async function locateTarget(
  deps: ModerationDeps,
  req: RemovalRequest,
  identified: Pick<IdentifiedTarget, 'access' | 'user'>,
  recorder: CaseRecorder,
  verify: boolean,
  able?: (provider: CallProvider) => Unrecorded | undefined,
): Promise<LocatedTarget> {
  const { access, user } = identified;
  const resolved = await resolveCall(deps, req, access, able);
  if ('outcome' in resolved) return { kind: 'no_call', outcome: resolved.outcome };
  recorder.on(resolved.binding.callId, resolved.binding.conversationId);
  const matches = await findParticipants(deps, resolved.provider, resolved.binding.callId, req.target, user, verify);
  return { kind: 'located', provider: resolved.provider, binding: resolved.binding, matches };
}

/**
 * Whether the participants found may be acted on as the target: one person (the same user on
 * several devices is one), and, for targets named by number, label or id (only known now), the
 * policy's rules for `action` applied to who they are, phone legs included. Returns the refusal,
 * or undefined.
 */
export async function vetMatches(
  req: RemovalRequest,
  identified: IdentifiedTarget,
  matches: Participant[],
  action: PersonAction = 'kick',
): Promise<Unrecorded | undefined> {
  const t = req.target;
  const { access, summary, user } = identified;
  const targetUserId = user?.userId?.toLowerCase();
  const samePerson =
    (t.kind === 'mention' || t.kind === 'user') &&
    matches.length > 1 &&
    matches.every((m) => m.kind === 'user' && m.identityId === targetUserId);
  if (matches.length > 1 && !samePerson) {
    return {
      kind: 'ambiguous_target',
      target: summary,
      candidates: matches.map((m) => ({
        participantId: m.participantId,
        displayName: m.displayName,
        label: m.label,
        phoneNumber: m.phoneNumbers?.[0],
      })),
    };
  }
  if (t.kind === 'mention') return undefined;
  const actorId = access.authority.userId;
  const organizer = access.organizerUserId?.toLowerCase();
  const [actorKeys, organizerKeys] = (await identified.people) ?? [undefined, undefined];
  const isPerson = (id: string | undefined, keys: PersonKeys | undefined) =>
    !!id &&
    (keys
      ? targetNamesPerson(t, keys) || matches.some((m) => isPersonLeg(m, keys))
      : matches.some((m) => m.kind === 'user' && m.identityId?.toLowerCase() === id));
  const late = mayActOn(action, access.authority, {
    isActor: isPerson(actorId, actorKeys),
    isBot: matches.some((m) => m.kind === 'application'),
    isOrganizer: isPerson(organizer, organizer === actorId ? actorKeys : organizerKeys),
  });
  return late.allowed ? undefined : { kind: 'denied', reason: late.reason, target: summary };
}

/** What an action acts on, once the participants are vetted. */
export interface Participants {
  /** The target named as the call knows them when the request did not (webhooks give ids). */
  summary: TargetSummary;
  /** The participants' ids, or the label alone where the backend takes one (`byLabelOnly`). */
  keys: string[];
  /** No participant was seen, but a label names one by itself where the backend allows (Twilio). */
  byLabelOnly: boolean;
}

/**
 * What to act on in the call, or that the target is not in it (`target_not_found`). Names the
 * target in `recorder` as the call knows them when the request did not.
 */
export function participantsToAct(
  req: RemovalRequest,
  identified: Pick<IdentifiedTarget, 'summary'>,
  located: Extract<LocatedTarget, { kind: 'located' }>,
  recorder: CaseRecorder,
): Participants | { outcome: Unrecorded } {
  const t = req.target;
  const { provider, binding, matches } = located;
  let summary = identified.summary;
  if (!summary.displayName && matches[0]?.displayName) {
    summary = { ...summary, displayName: matches[0].displayName };
    recorder.about(summary, t);
  }
  // A label names a participant by itself where the backend allows: even with a cold roster, one request does it.
  const byLabelOnly = matches.length === 0 && t.kind === 'label' && provider.capabilities.removeByLabel;
  if (matches.length === 0 && !byLabelOnly) return { outcome: { kind: 'target_not_found', target: summary, callId: binding.callId } };
  const keys = t.kind === 'label' && byLabelOnly ? [t.label] : matches.map((p) => p.participantId);
  return { summary, keys, byLabelOnly };
}
