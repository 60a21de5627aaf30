import { createHash } from 'node:crypto';
import type { Clock } from '../../app/ports/runtime.js';
import type { IdempotencyRecord, IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
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
 * The store keys a signed webhook message is deduplicated on, in claim order. The signed
 * `webhook-id` always comes first: only a secret holder can mint a new one, so a captured request
 * can never run twice. An `Idempotency-Key` is not signed, so it is a second key that can only
 * narrow that (two messages sharing one run once), never open another run of the same message.
 * The prefixes keep the two namespaces apart.
 */
export function webhookIdempotencyKeys(webhookId: string, idempotencyKey: string | undefined): string[] {
  return [`webhook-id:${webhookId}`, ...(idempotencyKey ? [`idempotency-key:${idempotencyKey}`] : [])];
}

/**
 * Runs `handler` at most once per key, for any webhook route, over one or more keys claimed in
 * order (see webhookIdempotencyKeys). A request that claims every key runs the handler and
 * stores its response under all of them. A request that finds a key already claimed does not run:
 * with the same body it gets that key's response (replayed), or waits while the first is still
 * running; with another body it gets 422. That answer is also stored under the keys it claimed
 * before, so the message keeps its answer; only "still in progress" gives them up again. A handler
 * that throws gives every key it claimed up, so a retry can run.
 */
export function idempotent(deps: IdempotencyDeps, handler: () => Promise<IdempotentResult>) {
  const waitMs = deps.waitForPendingMs ?? 15_000;
  return async (keys: readonly string[], rawBody: Buffer): Promise<IdempotentAnswer> => {
    if (keys.length === 0) throw new Error('idempotent: no key');
    const hash = createHash('sha256').update(rawBody).digest('hex');
    const now = deps.clock.now();
    const expiresAt = new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString();
    const claimed: string[] = [];
    try {
      for (const key of keys) {
        const existing = await deps.store.claim(key, hash, now.toISOString(), expiresAt);
        if (!existing) {
          claimed.push(key);
          continue;
        }
        const earlier = await earlierAnswer(deps.store, existing, hash, waitMs);
        if (!earlier) {
          await releaseAll(deps.store, claimed);
          return { ...answer(problem('request-in-progress', { retryable: true })), replayed: false };
        }
        for (const mine of claimed) await deps.store.complete(mine, earlier.response);
        return { ...earlier.response, replayed: earlier.replayed };
      }
    } catch (err) {
      await releaseAll(deps.store, claimed);
      throw err;
    }
    let result: IdempotentResult;
    try {
      result = await handler();
      for (const key of claimed) await deps.store.complete(key, result.stored);
    } catch (err) {
      // Nothing stored: a retry may run again.
      await releaseAll(deps.store, claimed);
      throw err;
    }
    result.after?.();
    return { ...result.stored, replayed: false };
  };
}

/** What a request gets from a key another request holds; undefined while that one is still running. */
async function earlierAnswer(
  store: IdempotencyStore,
  existing: IdempotencyRecord,
  hash: string,
  waitMs: number,
): Promise<{ response: StoredResponse; replayed: boolean } | undefined> {
  if (existing.requestHash !== hash) return { response: answer(problem('idempotency-key-reused')), replayed: false };
  const done = existing.response ?? (await waitForResponse(store, existing.key, waitMs));
  return done && { response: done, replayed: true };
}

async function releaseAll(store: IdempotencyStore, keys: readonly string[]): Promise<void> {
  for (const key of keys) await store.release(key);
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
