import type { Outcome } from '../../domain/outcome.js';
import type { CallProvider } from '../../ports/call-provider.js';
import type { MuteRequest, Unrecorded } from '../requests.js';
import type { RequestScope } from '../steps/lookups.js';
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
 * Mutes (or unmutes) one person in a call for everyone: authorize → resolve the call and the
 * target, as a kick does (steps/removal-target.ts) → the backend's mute → audit. A backend that
 * cannot do it (Teams cannot unmute anyone: only the person can) is answered `unsupported` before
 * anything is asked of it.
 */
export async function mute(req: MuteRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const change = req.action;
  const { recorder } = await personCase(req, scope, change, false);
  const refused = precheckPerson(req, scope, change);
  if (refused) return recorder.record(refused);

  const able = (provider: CallProvider): Unrecorded | undefined =>
    (change === 'mute' ? provider.muteParticipant : provider.unmuteParticipant) ? undefined : { kind: 'unsupported', provider: provider.kind, capability: change };
  let identified: IdentifiedTarget;
  let located: LocatedTarget;
  try {
    const who = await identifyTarget(scope, req, recorder, change);
    if ('refused' in who) return recorder.record(who.refused);
    identified = who;
    located = await locateTarget(deps, req, identified, recorder, false, able);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  if (located.kind === 'no_call') return recorder.record(located.outcome);
  const refusal = await vetMatches(req, identified, located.matches, change);
  if (refusal) return recorder.record(refusal);
  const what = participantsToAct(req, identified, located, recorder);
  if ('outcome' in what) return recorder.record(what.outcome);
  const { summary, keys, byLabelOnly } = what;
  const { provider, binding } = located;
  const callId = binding.callId;
  if (req.dryRun) return recorder.record({ kind: 'dry_run', target: summary, callId, participantIds: keys });

  return recorder.act(callId, keys, async () => {
    const results: string[] = [];
    for (const key of keys) {
      results.push(change === 'mute' ? await provider.muteParticipant!(callId, key) : await provider.unmuteParticipant!(callId, key));
    }
    if (results.some((r) => r !== 'already_gone')) return { kind: change === 'mute' ? 'muted' : 'unmuted', target: summary, callId, participantIds: keys };
    if (!byLabelOnly) await deps.store.roster.remove(callId, keys);
    return byLabelOnly ? { kind: 'target_not_found', target: summary, callId } : { kind: 'already_gone', target: summary, callId };
  });
}
