import { BouncerError } from '../../domain/errors.js';
import type { Outcome } from '../../domain/outcome.js';
import { now } from '../deps.js';
import { decide } from '../policy.js';
import type { ModLogChannelRequest, ReadResult } from '../requests.js';
import { CaseRecorder, upstreamFailure } from '../steps/audit.js';
import type { RequestScope } from '../steps/lookups.js';
import { readAccess } from '../steps/read-access.js';

/** The chat's most recent cases, newest first. */
export async function modlog(scope: RequestScope, limit: number): Promise<ReadResult> {
  const read = await readAccess(scope);
  if ('refused' in read) return read.refused;
  const { deps, request } = scope;
  try {
    return { kind: 'modlog', cases: request.conversationId ? await deps.store.cases.list({ conversationId: request.conversationId, limit }) : [] };
  } catch (err) {
    return upstreamFailure(deps, err);
  }
}

/**
 * `/modlog here` and `/modlog off`: the chat becomes a mod-log channel (every case from every chat
 * is posted to it as it completes: app/moderation/modlog-feed.ts), or stops being one. Admins
 * only; audited, refusals included. The setting is in the store, so every instance posts.
 */
export async function setModLogChannel(req: ModLogChannelRequest, scope: RequestScope): Promise<Outcome> {
  const { deps } = scope;
  const recorder = new CaseRecorder(deps, req, req.action);
  let authority;
  try {
    authority = (await scope.access()).authority;
  } catch (err) {
    return recorder.recordFailure(err);
  }
  const verdict = decide({ kind: 'configure_modlog', authority });
  if (!verdict.allowed) return recorder.record({ kind: 'denied', reason: verdict.reason });
  if (req.action === 'modlog_off') {
    const removed = await deps.store.modlog.remove(req.conversationId);
    return recorder.record({ kind: 'modlog_set', enabled: false, changed: removed });
  }
  // A chat's channel gives every request its reply address: without one, nothing could be posted.
  if (!req.replyAddress) throw new BouncerError('INTERNAL', 'a chat command came without a reply address');
  const added = await deps.store.modlog.add({
    conversationId: req.conversationId,
    replyAddress: req.replyAddress,
    tenantId: req.tenantId,
    addedBy: req.actor.kind === 'member' ? req.actor.userId : undefined,
    addedAt: now(deps),
  });
  return recorder.record({ kind: 'modlog_set', enabled: true, changed: added });
}
