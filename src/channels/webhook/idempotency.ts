import { createHash } from 'node:crypto';
import type { Clock, Logger } from '../../app/ports/runtime.js';
import type { IdempotencyRecord, IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import { problem } from './problems.js';

/** Idempotency keys are kept at least this long (the API promises 24 hours). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;

/** What a handler behind the middleware answers in the end: the response, and work to start once it is kept. */
export interface IdempotentResult {
  stored: StoredResponse;
  after?: () => void;
  /**
   * A failure that a retry may fix (a problem with `retryable: true`: upstream unavailable,
   * interrupted, no call yet): answered, but never kept, so that a retry with the same keys acts
   * again instead of getting this answer replayed.
   */
  retryable?: boolean;
  /**
   * Already written under the keys (kept, or, retryable, given up) by the work itself, with its
   * completed case (`RequestBase.keptAnswer`): nothing is left to write.
   */
  kept?: boolean;
}

/**
 * A handler's answer while its work goes on (202 Accepted): kept under the keys, so that a
 * duplicate delivery gets the same answer, until `final` replaces it (or, retryable, gives the
 * keys up).
 */
export interface IdempotentPending {
  interim: StoredResponse;
  final: Promise<IdempotentResult>;
}

export interface IdempotencyDeps {
  store: IdempotencyStore;
  clock: Clock;
  /** How long a duplicate delivery waits for the first one's answer (default 15 s). */
  waitForPendingMs?: number;
  /** Where work that outlasts its answer is tracked, so that a shutdown waits for it. */
  background?: { track(work: Promise<unknown>): void };
  logger?: Logger;
}

/** An answer, and whether it is a replay of an earlier one. */
export interface IdempotentAnswer extends StoredResponse {
  replayed: boolean;
  /**
   * Settles once this request's keys hold its final answer or were given up: at once, unless the
   * answer is interim and this request's work goes on. Never rejects.
   */
  settled: Promise<void>;
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

/** The keys of one entry of a bulk message: each of the message's keys, with `#<index>`. */
export function entryKeys(messageKeys: readonly string[], index: number): string[] {
  return messageKeys.map((key) => `${key}#${index}`);
}

/** The hash a key's body is compared by: the same key with another body is refused (422). */
export function bodyHash(rawBody: Buffer): string {
  return createHash('sha256').update(rawBody).digest('hex');
}

/**
 * Runs `handler` at most once per key, for any webhook route, over one or more keys claimed in
 * order (see webhookIdempotencyKeys). A request that claims every key runs the handler and
 * stores its response under all of them. A request that finds a key already claimed does not run:
 * with the same body it gets that key's response (replayed), or waits while the first is still
 * running; with another body it gets 422. That answer is also stored under the keys it claimed
 * before, so the message keeps its answer; only "still in progress" gives them up again.
 *
 * Not stored: a handler that throws, and an answer marked `retryable`: every key it claimed is
 * given up, so that a retry acts again. A handler that answers early (`IdempotentPending`) has its
 * interim answer held under the keys, and its final one stored (or the keys given up) when it
 * comes, tracked as background work.
 */
export function idempotent(deps: IdempotencyDeps, handler: () => Promise<IdempotentResult | IdempotentPending>) {
  return async (keys: readonly string[], rawBody: Buffer): Promise<IdempotentAnswer> => {
    const claim = await claimKeys(deps, keys, bodyHash(rawBody), 'wait');
    if ('answer' in claim) return claim.answer;
    const { claimed } = claim;
    let result: IdempotentResult | IdempotentPending;
    try {
      result = await handler();
    } catch (err) {
      // Nothing stored: a retry may run again. The handler's own failure is what is answered.
      await releaseAfterFailure(deps, claimed);
      throw err;
    }
    if ('interim' in result) {
      const settled = settleLater(deps, claimed, result.final);
      deps.background?.track(settled);
      // A final answer that is already kept is not replaced (hold only touches pending keys).
      for (const key of claimed) await deps.store.hold(key, result.interim);
      return { ...result.interim, replayed: false, settled };
    }
    await keep(deps.store, claimed, result);
    result.after?.();
    return { ...result.stored, replayed: false, settled: DONE };
  };
}

/** What claiming a message's keys came to: an answer already, or the keys this request now owns. */
export type Claim =
  | { answer: IdempotentAnswer }
  /** `othersPending`: a key another delivery holds, still pending (only with `onPending: 'proceed'`). */
  | { claimed: string[]; othersPending: boolean };

/**
 * Claims `keys` in order. A key already claimed with another body answers 422; one with a response
 * (final, or held) answers it, replayed. A pending key without a response: with `'wait'`, waits
 * for its response (or answers 409 request-in-progress, retryable, giving up what it claimed);
 * with `'proceed'`, is passed over (a bulk message, whose entries have keys of their own).
 * An answer found is stored under the keys claimed before it, so the message keeps its answer.
 */
export async function claimKeys(deps: IdempotencyDeps, keys: readonly string[], hash: string, onPending: 'wait' | 'proceed'): Promise<Claim> {
  if (keys.length === 0) throw new Error('idempotent: no key');
  const waitMs = deps.waitForPendingMs ?? 15_000;
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString();
  const claimed: string[] = [];
  let othersPending = false;
  try {
    for (const key of keys) {
      const existing = await deps.store.claim(key, hash, now.toISOString(), expiresAt);
      if (!existing) {
        claimed.push(key);
        continue;
      }
      if (onPending === 'proceed' && existing.requestHash === hash && !existing.response) {
        othersPending = true;
        continue;
      }
      const earlier = await earlierAnswer(deps.store, existing, hash, waitMs);
      if (!earlier) {
        await releaseAll(deps.store, claimed);
        return { answer: { ...answer(problem('request-in-progress', { retryable: true })), replayed: false, settled: DONE } };
      }
      // A held (interim) answer is not final: the keys claimed before it are given up, so that a
      // later delivery finds the final one.
      if (earlier.final) for (const mine of claimed) await deps.store.complete(mine, earlier.response);
      else await releaseAll(deps.store, claimed);
      return { answer: { ...earlier.response, replayed: earlier.replayed, settled: DONE } };
    }
  } catch (err) {
    await releaseAll(deps.store, claimed);
    throw err;
  }
  return { claimed, othersPending };
}

/** Keeps a final answer under the keys, or, retryable, gives them up. A store that fails gives them up too, and the failure is thrown. */
export async function keep(store: IdempotencyStore, keys: readonly string[], result: IdempotentResult): Promise<void> {
  if (result.kept) return;
  if (result.retryable) {
    await releaseAll(store, keys);
    return;
  }
  try {
    for (const key of keys) await store.complete(key, result.stored);
  } catch (err) {
    await releaseAll(store, keys);
    throw err;
  }
}

export async function releaseAll(store: IdempotencyStore, keys: readonly string[]): Promise<void> {
  for (const key of keys) await store.release(key);
}

const RELEASE_ATTEMPTS = 3;
const RELEASE_RETRY_DELAY_MS = 200;

/**
 * Gives up the keys of a request that failed (often because the store was busy), trying a few
 * times: a key left pending would hold every retry of the request off (409) until it expires.
 * Never throws; a release that keeps failing is logged with its keys.
 */
async function releaseAfterFailure(deps: IdempotencyDeps, keys: readonly string[]): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await releaseAll(deps.store, keys);
      return;
    } catch (err) {
      if (attempt >= RELEASE_ATTEMPTS) {
        deps.logger?.error({ err, keys }, 'could not release the idempotency keys of a failed request; its retries wait until they expire');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, RELEASE_RETRY_DELAY_MS * attempt));
    }
  }
}

const DONE: Promise<void> = Promise.resolve();

/** The end of work answered early: its final answer kept (or the keys given up), then its `after`. Never rejects. */
async function settleLater(deps: IdempotencyDeps, keys: readonly string[], final: Promise<IdempotentResult>): Promise<void> {
  let result: IdempotentResult;
  try {
    result = await final;
  } catch (err) {
    deps.logger?.error({ err }, 'a request answered early failed in the background');
    await releaseAll(deps.store, keys).catch((e: unknown) => deps.logger?.warn({ err: e }, 'could not release idempotency keys'));
    return;
  }
  try {
    await keep(deps.store, keys, result);
  } catch (err) {
    deps.logger?.warn({ err }, 'could not keep the final answer of a request answered early');
  }
  result.after?.();
}

/** What a request gets from a key another request holds; undefined while that one is still running. */
async function earlierAnswer(
  store: IdempotencyStore,
  existing: IdempotencyRecord,
  hash: string,
  waitMs: number,
): Promise<{ response: StoredResponse; replayed: boolean; final: boolean } | undefined> {
  if (existing.requestHash !== hash) return { response: answer(problem('idempotency-key-reused')), replayed: false, final: true };
  const record = existing.response ? existing : await waitForResponse(store, existing.key, waitMs);
  return record?.response && { response: record.response, replayed: true, final: record.state === 'done' };
}

function answer(p: { status: number }): StoredResponse {
  return { status: p.status, body: p };
}

/** The key's record once it has a response (final or held); undefined if it is given up or the wait ends first. */
async function waitForResponse(store: IdempotencyStore, key: string, waitMs: number): Promise<IdempotencyRecord | undefined> {
  const deadline = Date.now() + waitMs;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    const record = await store.get(key);
    if (!record) return undefined; // the first attempt failed and gave the key up
    if (record.response) return record;
  }
  return undefined;
}
