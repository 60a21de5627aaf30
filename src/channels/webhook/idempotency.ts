import { createHash } from 'node:crypto';
import type { Clock } from '../../app/ports/runtime.js';
import type { IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import { problem } from './problems.js';

/** Idempotency keys are kept at least this long (the API promises 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

/** What a handler behind the middleware answers: the response to keep, and work to start once it is kept. */
export interface IdempotentResult {
  stored: StoredResponse;
  after?: () => void;
}

export interface IdempotencyDeps {
  store: IdempotencyStore;
  clock: Clock;
  /** How long a duplicate delivery waits for the first one to finish. */
  waitForPendingMs?: number;
}

/** An answer, and whether it is a replay of an earlier one. */
export interface IdempotentAnswer extends StoredResponse {
  replayed: boolean;
}

/**
 * Runs `handler` at most once per key, for any webhook route. The first request with a key
 * claims it and stores its response; later ones with the same key and body get that response
 * (replayed), wait while the first is still running, or get 422 when the body differs. A handler
 * that throws gives the key up, so a retry can run.
 */
export function idempotent(deps: IdempotencyDeps, handler: () => Promise<IdempotentResult>) {
  const waitMs = deps.waitForPendingMs ?? 15_000;
  return async (key: string, rawBody: Buffer): Promise<IdempotentAnswer> => {
    const hash = createHash('sha256').update(rawBody).digest('hex');
    const now = deps.clock.now();
    const existing = await deps.store.claim(key, hash, now.toISOString(), new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString());
    if (existing) {
      if (existing.requestHash !== hash) return { ...answer(problem('idempotency-key-reused')), replayed: false };
      const done = existing.response ?? (await waitForResponse(deps.store, key, waitMs));
      if (!done) return { ...answer(problem('request-in-progress', { retryable: true })), replayed: false };
      return { ...done, replayed: true };
    }
    let result: IdempotentResult;
    try {
      result = await handler();
      await deps.store.complete(key, result.stored);
    } catch (err) {
      // Nothing stored: a retry with the same key may run again.
      await deps.store.release(key);
      throw err;
    }
    result.after?.();
    return { ...result.stored, replayed: false };
  };
}

function answer(p: { status: number }): StoredResponse {
  return { status: p.status, body: p };
}

async function waitForResponse(store: IdempotencyStore, key: string, waitMs: number): Promise<StoredResponse | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const record = await store.get(key);
    if (!record) return undefined; // the first attempt failed and gave the key up
    if (record.response) return record.response;
  }
  return undefined;
}
