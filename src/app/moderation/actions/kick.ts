import type { Outcome, TargetSummary } from '../../domain/outcome.js';
import type { Participant } from '../../domain/participant.js';
import type { ChatUser } from '../../ports/chat-directory.js';
import { meetingProviderEntry } from '../deps.js';
import { decide } from '../policy.js';
import type { KickRequest, Unrecorded } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { Access, RequestScope } from '../steps/lookups.js';
import { resolveCall } from '../steps/resolve-call.js';
import { findParticipants, isPersonLeg, personKeys, summarize, targetNamesPerson, withUser, type PersonKeys } from '../steps/resolve-target.js';

/**
 * What a kick can be refused for before anything is looked up: the bot or the actor themselves as
 * the target, or no calling backend configured at all.
 */
export function precheckKick(req: KickRequest, scope: RequestScope): Unrecorded | undefined {
  const t = req.target;
  const summary = summarize(t);
  if (t.kind === 'mention') {
    const actorChatId = req.actor.kind === 'member' ? req.actor.chatId : undefined;
    const early = decide({
      kind: 'remove',
      authority: { admin: false, role: 'unknown', moderatorRoles: new Set(), named: false },
      target: { isBot: scope.directory.isBot(t.chatId), isActor: !!actorChatId && t.chatId === actorChatId, isOrganizer: false },
    });
    if (!early.allowed && (early.reason === 'bot' || early.reason === 'self')) return { kind: 'denied', reason: early.reason, target: summary };
  }
  if (!scope.deps.providers.some((p) => p.provider)) {
    return { kind: 'not_configured', missing: meetingProviderEntry(scope.deps)?.missing ?? [] };
  }
  return undefined;
}

/**
 * The kick's audit case, naming its target as far as the request says, and with `lookUp` as the
 * directory knows it too (when that lookup fails, the request's own words are kept).
 */
export async function kickCase(
  req: KickRequest,
  scope: RequestScope,
  lookUp: boolean,
): Promise<{ recorder: CaseRecorder; summary: TargetSummary }> {
  const t = req.target;
  const user = lookUp && t.kind === 'mention' ? await scope.user(t.chatId).catch(() => undefined) : undefined;
  const summary = withUser(summarize(t), user);
  return { recorder: new CaseRecorder(scope.deps, req, 'kick', req.reason).about(summary, t), summary };
}

/**
 * Removes a participant from a call: authorize → resolve the call (joining it if needed) → resolve
 * the target → remove → audit. Every request becomes one case.
 */
export async function kick(req: KickRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const t = req.target;
  const refused = precheckKick(req, scope);
  if (refused) return (await kickCase(req, scope, false)).recorder.record(refused);

  const recorder = new CaseRecorder(deps, req, 'kick', req.reason);
  let summary = summarize(t);
  recorder.about(summary, t);
  let access: Access;
  let user: ChatUser | undefined;
  try {
    // Independent lookups run together: target identity, actor role, meeting, binding.
    [user, access] = await Promise.all([
      t.kind === 'mention' ? scope.user(t.chatId) : t.kind === 'user' ? { userId: t.userId } : undefined,
      scope.access(),
    ]);
  } catch (err) {
    return recorder.recordFailure(err);
  }
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
  if (!early.allowed) return recorder.record({ kind: 'denied', reason: early.reason, target: summary });

  // A target named by label, number or id may be a person's phone leg: who the organizer and the
  // actor are on the phone is looked up alongside the call (their directory profiles).
  const actorId = access.authority.userId;
  const organizer = access.organizerUserId?.toLowerCase();
  const keysOf = (id: string | undefined) => (id ? personKeys(deps, id) : Promise.resolve(undefined));
  const people: Promise<[PersonKeys | undefined, PersonKeys | undefined]> | undefined =
    t.kind === 'label' || t.kind === 'phone' || t.kind === 'participant'
      ? Promise.all([keysOf(actorId), organizer === actorId ? Promise.resolve(undefined) : keysOf(organizer)])
      : undefined;

  let matches: Participant[];
  let resolved: Awaited<ReturnType<typeof resolveCall>>;
  try {
    resolved = await resolveCall(deps, req, access);
    if ('outcome' in resolved) return recorder.record(resolved.outcome);
    recorder.on(resolved.binding.callId, resolved.binding.conversationId);
    matches = await findParticipants(deps, resolved.provider, resolved.binding.callId, t, user, req.dryRun === true);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const { provider, binding } = resolved;

  // The same user in the call from several devices is one person: remove every endpoint.
  const samePerson =
    (t.kind === 'mention' || t.kind === 'user') &&
    matches.length > 1 &&
    matches.every((m) => m.kind === 'user' && m.identityId === targetUserId);
  if (matches.length > 1 && !samePerson) {
    return recorder.record({
      kind: 'ambiguous_target',
      target: summary,
      candidates: matches.map((m) => ({
        participantId: m.participantId,
        displayName: m.displayName,
        label: m.label,
        phoneNumber: m.phoneNumbers?.[0],
      })),
    });
  }

  // Targets named by number, label or id are only known now: apply the same rules to who they are,
  // phone legs included (a label or number of a person's is that person).
  if (t.kind !== 'mention') {
    const [actorKeys, organizerKeys] = (await people) ?? [undefined, undefined];
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
    if (!late.allowed) return recorder.record({ kind: 'denied', reason: late.reason, target: summary });
  }

  // Name the person as the call knows them when the request did not (webhooks give ids).
  if (!summary.displayName && matches[0]?.displayName) {
    summary = { ...summary, displayName: matches[0].displayName };
    recorder.about(summary, t);
  }

  // A label names a participant by itself where the backend allows: even with a cold roster, one removal does it.
  const byLabelOnly = matches.length === 0 && t.kind === 'label' && provider.capabilities.removeByLabel;
  const callId = binding.callId;
  if (matches.length === 0 && !byLabelOnly) return recorder.record({ kind: 'target_not_found', target: summary, callId });
  const keys = t.kind === 'label' && byLabelOnly ? [t.label] : matches.map((p) => p.participantId);
  if (req.dryRun) return recorder.record({ kind: 'dry_run', target: summary, callId, participantIds: keys });

  return recorder.act(callId, keys, async () => {
    const results: Array<'removed' | 'already_gone'> = [];
    for (const key of keys) results.push(await provider.removeParticipant(callId, key));
    if (!byLabelOnly) await deps.store.roster.remove(callId, keys);
    if (results.includes('removed')) return { kind: 'removed', target: summary, callId, participantIds: keys };
    return byLabelOnly ? { kind: 'target_not_found', target: summary, callId } : { kind: 'already_gone', target: summary, callId };
  });
}
