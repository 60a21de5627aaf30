import type { NoticeStatus, Outcome, TargetSummary } from '../../domain/outcome.js';
import type { KickRequest, Unrecorded } from '../requests.js';
import type { CaseRecorder } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { newNoticeToken, noticeBeforeRemoval, noticeDetail } from '../steps/notify-participant.js';
import {
  identifyTarget,
  locateTarget,
  participantsToAct,
  personCase,
  precheckPerson,
  vetMatches,
  type IdentifiedTarget,
  type LocatedTarget,
} from '../steps/removal-target.js';

/**
 * What a kick can be refused for before anything is looked up: the bot or the actor themselves as
 * the target, or no calling backend configured at all.
 */
export function precheckKick(req: Pick<KickRequest, 'target' | 'actor'>, scope: RequestScope): Unrecorded | undefined {
  return precheckPerson(req, scope, 'kick');
}

/**
 * The kick's audit case, naming its target as far as the request says, and with `lookUp` as the
 * directory knows it too (when that lookup fails, the request's own words are kept).
 */
export function kickCase(req: KickRequest, scope: RequestScope, lookUp: boolean): Promise<{ recorder: CaseRecorder; summary: TargetSummary }> {
  return personCase(req, scope, 'kick', lookUp);
}

/**
 * Removes a participant from a call: authorize → resolve the call (joining it if needed) → resolve
 * the target → (NOTIFY_REMOVED: tell them why, privately) → remove → audit. Every request becomes
 * one case.
 */
export async function kick(req: KickRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const refused = precheckKick(req, scope);
  if (refused) return (await kickCase(req, scope, false)).recorder.record(refused);

  const { recorder } = await kickCase(req, scope, false);
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
  const refusal = await vetMatches(req, identified, located.matches);
  if (refusal) return recorder.record(refusal);
  const what = participantsToAct(req, identified, located, recorder);
  if ('outcome' in what) return recorder.record(what.outcome);
  const { summary, keys, byLabelOnly } = what;
  const { provider, binding, matches } = located;
  const callId = binding.callId;
  if (req.dryRun) return recorder.record({ kind: 'dry_run', target: summary, callId, participantIds: keys });

  // The notice's token is in the pending case, so that the backend can fetch the notice back by then.
  const token = deps.notifyRemoved ? newNoticeToken() : undefined;
  return recorder.act(
    callId,
    keys,
    async (caseId, done) => {
      let notice: NoticeStatus | undefined;
      if (token) notice = await noticeBeforeRemoval(deps, req, { provider, binding, matches, keys, user: identified.user }, { caseId, token });
      const results: Array<'removed' | 'already_gone'> = [];
      for (const key of keys) results.push(await provider.removeParticipant(callId, key));
      // The roster rows go with the completed case, in its transaction.
      if (!byLabelOnly) done.removedFromRoster(callId, keys);
      if (results.includes('removed')) return { kind: 'removed', target: summary, callId, participantIds: keys, ...(notice ? { notice } : {}) };
      return byLabelOnly ? { kind: 'target_not_found', target: summary, callId } : { kind: 'already_gone', target: summary, callId };
    },
    token ? noticeDetail(token) : undefined,
  );
}
