import type { Outcome } from '../../domain/outcome.js';
import type { WarnRequest } from '../requests.js';
import type { RequestScope } from '../steps/lookups.js';
import { newNoticeToken, noticeDetail, noticeRoute, sendNotice } from '../steps/notify-participant.js';
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
 * Warns one person in a call privately: authorize → resolve the call and the target, as a kick
 * does (steps/removal-target.ts) → a notice only they get (Teams: a targeted meeting notification;
 * Twilio: an announcement to that caller) → audit. A notice that was not delivered is an
 * `upstream_failed` case; one the notice cannot reach at all (not a member of the meeting's chat) is a
 * `not_reachable` case, nothing sent.
 */
export async function warn(req: WarnRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const { recorder } = await personCase(req, scope, 'warn', false);
  const refused = precheckPerson(req, scope, 'warn');
  if (refused) return recorder.record(refused);

  let identified: IdentifiedTarget;
  let located: LocatedTarget;
  try {
    const who = await identifyTarget(scope, req, recorder, 'warn');
    if ('refused' in who) return recorder.record(who.refused);
    identified = who;
    located = await locateTarget(deps, req, identified, recorder, false);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  if (located.kind === 'no_call') return recorder.record(located.outcome);
  const refusal = await vetMatches(req, identified, located.matches, 'warn');
  if (refusal) return recorder.record(refusal);
  const what = participantsToAct(req, identified, located, recorder);
  if ('outcome' in what) return recorder.record(what.outcome);
  const { summary, keys, byLabelOnly } = what;
  const { provider, binding, matches } = located;
  const callId = binding.callId;
  const subject = { provider, binding, matches, keys, user: identified.user };
  const how = noticeRoute(deps, req, subject);
  if ('unavailable' in how) return recorder.record(how.unavailable);
  if (req.dryRun) return recorder.record({ kind: 'dry_run', target: summary, callId, participantIds: keys });

  // The notice's token is in the pending case, so that the backend can fetch the notice back by then.
  const token = newNoticeToken();
  return recorder.act(
    callId,
    keys,
    async (caseId) => {
      const sent = await sendNotice(deps, subject, how.route, { kind: 'warning', reason: req.reason, ref: { caseId, token } });
      if (sent === 'sent') return { kind: 'warned', target: summary, callId, participantIds: keys };
      // Nothing was sent: the reply says plainly that they could not be warned privately.
      if (typeof sent === 'object') return { kind: 'not_reachable', target: summary, callId, why: sent.notReachable };
      // A label nobody has is nobody in the call; a participant the backend no longer knows has left.
      return byLabelOnly ? { kind: 'target_not_found', target: summary, callId } : { kind: 'already_gone', target: summary, callId };
    },
    noticeDetail(token),
  );
}
