import type { Outcome, TargetSummary } from '../../domain/outcome.js';
import { now } from '../deps.js';
import { decide } from '../policy.js';
import type { ModeratorRequest, ReadResult } from '../requests.js';
import { CaseRecorder } from '../steps/audit.js';
import type { Access, RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';

/**
 * Names or un-names a moderator of the chat's meeting (`/moderators add|remove @person`): for the
 * organizer, co-organizers and admins, whatever MODERATOR_ROLES says. Audited, refusals included.
 * The person is known by their Entra object id, looked up from the mention, never by its text.
 */
export async function nameModerator(req: ModeratorRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, req.action);
  let access: Access;
  try {
    access = await scope.access();
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const mentioned: TargetSummary = { displayName: req.target.displayName };
  recorder.about(mentioned, req.target);
  const verdict = decide({ kind: 'name_moderators', authority: access.authority });
  if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason, target: mentioned });
  let user;
  try {
    user = await scope.user(req.target.chatId);
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const conversationId = req.conversationId;
  if (!user?.userId || conversationId === undefined) {
    return recorder.record({ kind: 'target_not_found', target: mentioned, callId: '' });
  }
  const target: TargetSummary = { displayName: user.displayName ?? req.target.displayName, userId: user.userId.toLowerCase() };
  recorder.about(target, req.target);
  if (req.action === 'moderator_add') {
    const actorId = req.actor.kind === 'member' ? req.actor.userId : undefined;
    const added = await deps.store.moderators.add({ conversationId, userId: target.userId!, displayName: target.displayName, addedBy: actorId, addedAt: now(deps) });
    return recorder.record({ kind: 'moderator_added', target, already: !added });
  }
  const removed = await deps.store.moderators.remove(conversationId, target.userId!);
  return recorder.record({ kind: 'moderator_removed', target, wasNamed: removed });
}

/** Who moderates the chat's meeting: the moderating roles and the people named. Moderators only (like every read). */
export async function moderators(scope: RequestScope): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps, request } = scope;
  return {
    kind: 'moderators',
    roles: [...deps.moderatorRoles],
    named: request.conversationId === undefined ? [] : await deps.store.moderators.list(request.conversationId),
  };
}
