import type { ModerationDeps } from '../deps.js';

/**
 * How long the call states the backends notified (`call_states`) are kept. A state is only read
 * when a join saves its `establishing` binding, seconds after the call's first notification, so
 * these are generous: an ended call's state outlives any late notification of it, and a state
 * nothing updated for a week belongs to a call whose end Bouncer never heard of. The state of a
 * call a live binding holds is never pruned (see BindingStore.pruneCallStates).
 */
export const CALL_STATE_ENDED_KEEP_MS = 24 * 3_600_000;
export const CALL_STATE_IDLE_KEEP_MS = 7 * 24 * 3_600_000;
/** At most this often (checked on the reconciler's round, at start and every minute). */
export const CALL_STATE_PRUNE_EVERY_MS = 3_600_000;

/**
 * Forgets the call states due under the retention above; returns how many. Several instances on one
 * database may run it at once: each deletes what it finds, and none deletes a row another is writing.
 */
export async function pruneCallStates(deps: Pick<ModerationDeps, 'store' | 'clock' | 'logger'>): Promise<number> {
  const at = deps.clock.now().getTime();
  const pruned = await deps.store.bindings.pruneCallStates(
    new Date(at - CALL_STATE_ENDED_KEEP_MS).toISOString(),
    new Date(at - CALL_STATE_IDLE_KEEP_MS).toISOString(),
  );
  if (pruned > 0) deps.logger.info({ pruned }, 'forgot the states of ended or long-idle calls');
  return pruned;
}
