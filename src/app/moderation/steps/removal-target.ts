import type { TargetSummary } from '../../domain/outcome.js';
import type { CallBinding, Participant } from '../../domain/participant.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { ChatUser } from '../../ports/chat-directory.js';
import type { ModerationDeps } from '../deps.js';
import { decide } from '../policy.js';
import type { CallRef, RequestBase, TargetRef, Unrecorded } from '../requests.js';
import type { CaseRecorder } from './audit.js';
import type { Access, RequestScope } from './lookups.js';
import { resolveCall } from './resolve-call.js';
import { findParticipants, isPersonLeg, personKeys, summarize, targetNamesPerson, withUser, type PersonKeys } from './resolve-target.js';

/**
 * The steps every action that removes someone shares (kick, ban): who the target is and whether the
 * actor may remove them (`identifyTarget`), where they are (`locateTarget`), and whether the
 * participants found are one person the actor may remove (`vetMatches`).
 */

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
 * meeting and the binding) and applies the policy's removal rules to what is known so far. Names
 * the target in `recorder` as it learns who they are. Outages are thrown.
 */
export async function identifyTarget(scope: RequestScope, req: RemovalRequest, recorder: CaseRecorder): Promise<IdentifiedTarget | { refused: Unrecorded }> {
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
  const early = decide({
    kind: 'remove',
    authority: access.authority,
    target: {
      isActor: !!targetUserId && targetUserId === access.authority.userId,
      isBot: false,
      isOrganizer: !!targetUserId && targetUserId === access.organizerUserId?.toLowerCase(),
    },
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
 * where the backend could act on the target unseen (a dry run). Outages are thrown.
 */
export async function locateTarget(
  deps: ModerationDeps,
  req: RemovalRequest,
  identified: Pick<IdentifiedTarget, 'access' | 'user'>,
  recorder: CaseRecorder,
  verify: boolean,
): Promise<LocatedTarget> {
  const { access, user } = identified;
  const resolved = await resolveCall(deps, req, access);
  if ('outcome' in resolved) return { kind: 'no_call', outcome: resolved.outcome };
  recorder.on(resolved.binding.callId, resolved.binding.conversationId);
  const matches = await findParticipants(deps, resolved.provider, resolved.binding.callId, req.target, user, verify);
  return { kind: 'located', provider: resolved.provider, binding: resolved.binding, matches };
}

/**
 * Whether the participants found may be removed as the target: one person (the same user on
 * several devices is one), and, for targets named by number, label or id (only known now), the
 * policy's rules applied to who they are, phone legs included. Returns the refusal, or undefined.
 */
export async function vetMatches(req: RemovalRequest, identified: IdentifiedTarget, matches: Participant[]): Promise<Unrecorded | undefined> {
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
  const late = decide({
    kind: 'remove',
    authority: access.authority,
    target: {
      isActor: isPerson(actorId, actorKeys),
      isBot: matches.some((m) => m.kind === 'application'),
      isOrganizer: isPerson(organizer, organizer === actorId ? actorKeys : organizerKeys),
    },
  });
  return late.allowed ? undefined : { kind: 'denied', reason: late.reason, target: summary };
}
