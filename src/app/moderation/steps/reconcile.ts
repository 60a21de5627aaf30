import type { AuditCase, CaseResult } from '../../ports/store.js';
import { now, type ModerationDeps } from '../deps.js';

/**
 * Completes removals cut off by a crash or a shutdown (issue 11, item 6): each pending kick case
 * opened at or before `openedBefore` is checked against its call's participants. Gone: `removed`
 * (the DELETE may have happened; either way they are out); still there: `interrupted` (nothing
 * was done). A pending ban case is `banned` when its ban was stored, else `interrupted`. A webhook
 * request's idempotency keys (the ones its case names) are released, so that its sender's retry
 * runs instead of getting 409, or the 202 it was answered, for 24 hours. A case whose call cannot
 * be listed now stays pending for the next round. Returns how many cases were completed.
 *
 * Several instances may run this at once on one database: each case is claimed first (an
 * idempotency key, claimed atomically across instances), so that no case is reconciled twice.
 */
export async function reconcilePendingCases(
  deps: Pick<ModerationDeps, 'store' | 'clock' | 'logger' | 'providers'>,
  openedBefore: string,
  limit = 100,
): Promise<number> {
  let completed = 0;
  for (const c of await deps.store.cases.listPending(openedBefore, limit)) {
    const claim = `reconcile:${c.id}`;
    const at = deps.clock.now();
    try {
      const taken = await deps.store.idempotency.claim(claim, 'reconcile', at.toISOString(), new Date(at.getTime() + RECONCILE_CLAIM_MS).toISOString());
      if (taken) continue; // another instance is on it (or was, and its claim has not expired)
    } catch (err) {
      deps.logger.warn({ err, caseId: c.id }, 'could not claim a pending case to reconcile; trying again later');
      continue;
    }
    try {
      const result = await reconcileOne(deps, c);
      if (!result) {
        await deps.store.idempotency.release(claim);
        continue;
      }
      await deps.store.cases.close(c.id, { ...result, detail: { reconciled: true } }, now(deps));
      completed++;
      deps.logger.warn({ caseId: c.id, outcome: result.outcome, requestId: c.requestId }, 'reconciled a pending case');
      for (const key of idempotencyKeysOf(c)) await deps.store.idempotency.release(key);
      await deps.store.idempotency.complete(claim, { status: 200, body: { outcome: result.outcome } });
    } catch (err) {
      deps.logger.warn({ err, caseId: c.id }, 'could not reconcile a pending case; trying again later');
      await deps.store.idempotency.release(claim).catch(() => undefined);
    }
  }
  return completed;
}

/** How long an instance's claim on a pending case lasts (it is released at once when it fails). */
const RECONCILE_CLAIM_MS = 10 * 60_000;

async function reconcileOne(deps: Pick<ModerationDeps, 'store' | 'providers'>, c: AuditCase): Promise<CaseResult | undefined> {
  // A ban is stored before its removal: stored, it stands (whatever became of the removal, which a
  // rejoin would now undo); not stored, nothing was done.
  if (c.action === 'ban') return { outcome: (await deps.store.bans.get(c.id)) ? 'banned' : 'interrupted', callId: c.callId };
  // A reason's edit names its case in the history it wrote: there, it was made.
  if (c.action === 'edit_reason' && typeof c.detail.caseId === 'number') {
    const edits = await deps.store.cases.reasonEdits(c.detail.caseId);
    return { outcome: edits.some((e) => e.editCaseId === c.id) ? 'reason_edited' : 'interrupted' };
  }
  // Of the rest, only a kick's effect can be read back (is the person still in the call?); any other
  // action cut off (a bind, a mute, a warning) is recorded as interrupted: whether it took effect is not known.
  if (c.action !== 'kick' || !c.callId || c.participantIds.length === 0) return { outcome: 'interrupted', callId: c.callId };
  const binding = await deps.store.bindings.findByCallId(c.callId);
  if (binding?.state === 'terminated') return { outcome: 'already_gone', callId: c.callId };
  const provider = deps.providers.find((p) => p.kind === binding?.provider)?.provider;
  if (!provider) return undefined;
  const present = new Set((await provider.listParticipants(c.callId)).flatMap((p) => [p.participantId, p.label]));
  const still = c.participantIds.some((id) => present.has(id));
  return { outcome: still ? 'interrupted' : 'removed', callId: c.callId };
}

/**
 * The idempotency keys a case's request held: the ones its case names, or, for a webhook case
 * recorded before cases named them, the keys its request id was claimed under.
 */
function idempotencyKeysOf(c: AuditCase): string[] {
  const named = c.detail.idempotencyKeys;
  if (Array.isArray(named)) return named.filter((k): k is string => typeof k === 'string');
  return c.source === 'webhook' ? [`webhook-id:${c.requestId}`, `idempotency-key:${c.requestId}`] : [];
}
