import type { Outcome, TargetSummary } from '../../domain/outcome.js';
import { meetingProviderEntry } from '../deps.js';
import { decide } from '../policy.js';
import type { KickRequest, Unrecorded } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { identifyTarget, locateTarget, vetMatches, type IdentifiedTarget, type LocatedTarget } from '../steps/removal-target.js';
import { summarize, withUser } from '../steps/resolve-target.js';

/**
 * What a kick can be refused for before anything is looked up: the bot or the actor themselves as
 * the target, or no calling backend configured at all.
 */
export function precheckKick(req: Pick<KickRequest, 'target' | 'actor'>, scope: RequestScope): Unrecorded | undefined {
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
  let identified: IdentifiedTarget;
  let located: LocatedTarget;
  try {
    const who = await identifyTarget(scope, req, recorder);
    if ('refused' in who) return recorder.record(who.refused);
    identified = who;
    located = await locateTarget(deps, req, identified, recorder, req.dryRun === true);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  if (located.kind === 'no_call') return recorder.record(located.outcome);
  const { provider, binding, matches } = located;

  const refusal = await vetMatches(req, identified, matches);
  if (refusal) return recorder.record(refusal);

  // Name the person as the call knows them when the request did not (webhooks give ids).
  let summary = identified.summary;
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
