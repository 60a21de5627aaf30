import type { Outcome } from '../../domain/outcome.js';
import { liveBinding } from '../../domain/participant.js';
import { now, providerOf } from '../deps.js';
import { decide } from '../policy.js';
import type { UnbindRequest } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { Access, RequestScope } from '../steps/lookups.js';

/** Disconnects the chat from its call (leaving it where the provider can). Audited. */
export async function unbind(req: UnbindRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, 'unbind');
  let access: Access;
  try {
    access = await scope.access();
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const verdict = decide({ kind: 'use', permission: 'moderator', authority: access.authority });
  if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason });
  const live = liveBinding(access.binding);
  if (!live) return recorder.record({ kind: 'not_bound', reason: 'no_binding' });
  recorder.on(live.callId);
  await deps.store.bindings.save({ ...live, state: 'terminated', updatedAt: now(deps) });
  const choice = providerOf(deps, live.provider);
  try {
    if ('provider' in choice) await choice.provider.leaveCall?.(live.callId);
  } catch (err) {
    // The chat is unbound either way; a call leg left behind ends with the meeting.
    deps.logger.warn({ err, callId: live.callId }, 'could not leave the call');
  }
  return recorder.record({ kind: 'unbound', provider: live.provider, callId: live.callId, callName: live.callName });
}
