import { AsyncLocalStorage } from 'node:async_hooks';
import { UpstreamError } from './errors.js';

/**
 * The overall deadline of the command being run (COMMAND_DEADLINE_MS), carried with the async
 * context so that every upstream call made for it (Graph, Entra tokens, Twilio, the Bot Connector),
 * every backoff wait and the wait for a joined call fit inside it without each port taking a
 * parameter. Outside a command (reconciliation, notifications) there is no deadline: each upstream
 * call keeps its own UPSTREAM_TIMEOUT_MS.
 */
const current = new AsyncLocalStorage<{ at: number }>();

/** Runs `work` with a deadline `ms` from now; a deadline already in force that ends sooner stays. */
export function withDeadline<T>(ms: number, work: () => Promise<T>, now: () => number = Date.now): Promise<T> {
  const at = Math.min(now() + ms, current.getStore()?.at ?? Infinity);
  return current.run({ at }, work);
}

/** Milliseconds left before the current command's deadline (Infinity outside a command; 0 once it has passed). */
export function timeLeftMs(now: number = Date.now()): number {
  const at = current.getStore()?.at;
  return at === undefined ? Infinity : Math.max(0, at - now);
}

/** The time an upstream call may take: its own limit, or less when the command's deadline is nearer. */
export function callBudgetMs(ownLimitMs: number, now: number = Date.now()): number {
  return Math.min(ownLimitMs, timeLeftMs(now));
}

/** The failure of a call the command had no time left to make or to wait for (retryable: nothing was done by it). */
export function outOfTime(service: string, what: string): UpstreamError {
  return new UpstreamError(service, `${what}: the command's deadline passed`, { retryable: true });
}

/**
 * Waits for `promise` at most `ms`, for upstream calls whose client takes no deadline of its own
 * (the Bot Connector's Teams APIs): after `ms` the caller stops waiting with a retryable
 * UpstreamError; the request itself may still finish, unobserved.
 */
export function awaitWithin<T>(promise: Promise<T>, ms: number, service: string, what: string): Promise<T> {
  if (ms <= 0) {
    promise.catch(() => undefined);
    return Promise.reject(outOfTime(service, what));
  }
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      promise.catch(() => undefined);
      reject(new UpstreamError(service, `${what} timed out after ${ms} ms`, { retryable: true }));
    }, ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
