import { outOfTime, timeLeftMs } from '../app/domain/deadline.js';
import { UpstreamError, type UpstreamDetails } from '../app/domain/errors.js';
import type { Logger } from '../app/ports/runtime.js';

/**
 * A failure answer from an upstream (an HTTP status of 400 or more), with what the retry loop needs
 * to read: the status and the vendor's Retry-After. Its `retryable` says whether it is worth
 * retrying at all (429 and every 5xx).
 */
export class UpstreamHttpError extends UpstreamError {
  declare readonly status: number;
  /** The raw Retry-After header, when the upstream sent one. */
  readonly retryAfter?: string;
  constructor(service: string, message: string, details: Omit<UpstreamDetails, 'status' | 'retryable'> & { status: number; retryAfter?: string }) {
    const { retryAfter, ...rest } = details;
    super(service, message, { ...rest, retryable: isRetryableStatus(details.status) });
    this.name = 'UpstreamHttpError';
    this.retryAfter = retryAfter;
  }
}

/**
 * A request that was sent, or may have been, and got no answer: it timed out, or its connection was
 * reset or closed. The upstream may have acted on it, so only an idempotent request is sent again.
 */
export class UpstreamNoAnswerError extends UpstreamError {
  constructor(service: string, message: string, cause: unknown) {
    super(service, message, { retryable: true, cause });
    this.name = 'UpstreamNoAnswerError';
  }
}

/**
 * A request that never reached the upstream: its connection could not be opened (refused, the
 * host's name not resolved, no route). The upstream cannot have acted on it, so it is sent again
 * as a server error is, idempotent or not; and it makes no later 404 uncertain.
 */
export class UpstreamNotSentError extends UpstreamError {
  constructor(service: string, message: string, cause: unknown) {
    super(service, message, { retryable: true, cause });
    this.name = 'UpstreamNotSentError';
  }
}

/** System errors of a connection that was never opened: refused, the host's name not resolved, no route. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * The system error code of a request that failed before it reached the upstream, if that is how it
 * failed: on the error itself (node:http, axios) or on its cause (`fetch`'s "fetch failed").
 */
export function notSentCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 3; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && NOT_SENT_CODES.has(e.code)) return e.code;
  }
  return undefined;
}

/**
 * Whether the upstream may have acted on a request that failed this way: it got no answer, or a
 * server error (5xx). A 404 on a retry after such a failure may be that attempt's doing.
 */
export function mayHaveActed(err: unknown): boolean {
  return err instanceof UpstreamNoAnswerError || (err instanceof UpstreamHttpError && err.status >= 500);
}

/** How one call is retried. */
export interface RunOptions {
  /**
   * The request means the same however often it is sent (a DELETE): one that got no answer
   * (UpstreamNoAnswerError) is sent again, as a server error is, within the command's deadline.
   */
  idempotent?: boolean;
}

/** Throttling (429) and every server error (5xx) may succeed later; other failures will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

// IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" (RFC 9110 §5.6.7); Date.parse alone accepts nonsense.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * What a Retry-After header asks for, in ms: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
 * Undefined when absent or malformed; a date in the past is 0.
 */
export function retryAfterMs(retryAfter: string | null | undefined, now = Date.now()): number | undefined {
  const value = retryAfter?.trim() ?? '';
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  if (IMF_FIXDATE.test(value)) {
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return undefined;
}

/** Retry-After in ms when it can be read; otherwise the backoff ceiling of `attempt` (from 500 ms, doubling). */
export function retryDelay(retryAfter: string | null | undefined, attempt: number, now = Date.now(), baseDelayMs = 500): number {
  return retryAfterMs(retryAfter, now) ?? baseDelayMs * 2 ** attempt;
}

export interface RetryOptions {
  /** Attempts in all for server errors (5xx), the first one included (default 4). Throttling does not count. */
  maxAttempts?: number;
  /** The first backoff step, doubled on each retry (default 500 ms). */
  baseDelayMs?: number;
  /**
   * Longest single wait (default 30 s). Backoff is capped at it; a Retry-After beyond it is not
   * waited for: the failure is thrown at once (retryable, for the caller's caller to decide).
   */
  maxDelayMs?: number;
  /**
   * How long one call keeps waiting out throttling (429) in all (default 60 s): what waiting would
   * fix, waiting fixes. Inside a command its deadline may end it sooner.
   */
  maxThrottledMs?: number;
  /** Requests in flight at once to this upstream (default 16); the rest queue, oldest call first. */
  concurrency?: number;
  /** [0, 1); Math.random by default. Injected so that tests are deterministic. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  logger?: Logger;
}

/** A call waiting for a slot: the oldest call (by its first attempt) goes first. */
interface Waiter {
  since: number;
  seq: number;
  wake: () => void;
}

/**
 * The one outbound scheduler of an upstream account (Graph for a tenant and app, Twilio for an
 * account): one instance per account, shared by every call to it.
 *
 * - A queue with a concurrency cap (`concurrency`); calls waiting for a slot go oldest first, so a
 *   call that was throttled and retries does not fall behind newer ones.
 * - A Retry-After pauses the whole upstream, not one request: no attempt starts until it is over.
 * - 429 is retried for as long as `maxThrottledMs` (and the command's deadline) allows; 5xx up to
 *   `maxAttempts`, with exponential backoff and jitter. The last failure is thrown (an
 *   UpstreamError with the vendor's details, retryable). A request that got no answer (timed out,
 *   the connection reset: UpstreamNoAnswerError) is not retried, the upstream may have acted on it,
 *   unless the call is idempotent: then it counts as a server error. One that was never sent
 *   (UpstreamNotSentError: connection refused, name not resolved) always counts as one.
 * - Inside a command (src/app/domain/deadline.ts) no wait outlasts the command's deadline: a wait
 *   that would is not started, and the failure is thrown at once (retryable).
 */
export class RetryScheduler {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxThrottledMs: number;
  readonly concurrency: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private pausedUntil = 0;
  private inFlight = 0;
  private seq = 0;
  private readonly waiting: Waiter[] = [];

  constructor(
    readonly service: string,
    private readonly options: RetryOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.maxThrottledMs = options.maxThrottledMs ?? 60_000;
    this.concurrency = Math.max(1, options.concurrency ?? 16);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  /** Calls in flight and queued now (for tests and diagnostics). */
  get load(): { inFlight: number; queued: number; pausedForMs: number } {
    return { inFlight: this.inFlight, queued: this.waiting.length, pausedForMs: Math.max(0, this.pausedUntil - this.now()) };
  }

  /** Runs `attempt` until it succeeds, fails for good, or waiting no longer may help. `what` names it in logs. */
  async run<T>(what: string, attempt: (attemptNumber: number) => Promise<T>, options: RunOptions = {}): Promise<T> {
    const since = this.now();
    let serverFailures = 0;
    let justWaited = false;
    for (let n = 0; ; n++) {
      await this.turn(what, since, justWaited);
      justWaited = false;
      let err: unknown;
      try {
        return await attempt(n);
      } catch (e) {
        err = e;
      } finally {
        this.release();
      }
      const unanswered = options.idempotent === true && err instanceof UpstreamNoAnswerError;
      const unsent = err instanceof UpstreamNotSentError;
      if (!unanswered && !unsent && (!(err instanceof UpstreamHttpError) || !err.retryable)) throw err;
      const failed = err as UpstreamError & { retryAfter?: string };
      const throttled = failed.status === 429;
      if (!throttled && ++serverFailures >= this.maxAttempts) throw err;
      const asked = retryAfterMs(failed.retryAfter, this.now());
      if (asked !== undefined && asked > this.maxDelayMs) {
        this.options.logger?.warn({ service: this.service, what, status: failed.status, retryAfterMs: asked }, 'upstream asked to wait longer than Bouncer waits');
        throw err;
      }
      // Throttled: the pause is the upstream's, for every call; this call waits it out, plus a little
      // jitter so that the calls it held back do not all start in the same millisecond.
      const delay = asked !== undefined ? asked + this.jitter(asked) : this.backoff(throttled ? n : serverFailures - 1);
      if (asked !== undefined) this.pausedUntil = Math.max(this.pausedUntil, this.now() + asked);
      if (throttled && this.now() + delay - since > this.maxThrottledMs) {
        this.options.logger?.warn({ service: this.service, what, status: failed.status }, 'upstream still throttling; giving up');
        throw err;
      }
      if (delay >= timeLeftMs()) {
        this.options.logger?.warn({ service: this.service, what, status: failed.status, delayMs: delay }, "no time left in the command's deadline to retry");
        throw err;
      }
      this.options.logger?.warn(
        {
          service: this.service,
          what,
          status: failed.status,
          vendorCode: failed.vendorCode,
          attempt: n,
          delayMs: delay,
          // Our own words (no vendor text): what became of the request.
          ...(unanswered ? { noAnswer: true, error: failed.message } : unsent ? { notSent: true, error: failed.message } : {}),
        },
        unanswered ? 'upstream did not answer an idempotent request; sending it again' : unsent ? 'request could not be sent; sending it again' : 'upstream failed; retrying',
      );
      await this.sleep(delay);
      justWaited = true;
    }
  }

  /** Exponential backoff with "equal jitter": between half and all of base·2^n, capped at maxDelayMs. */
  backoff(retry: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** Up to a tenth of a Retry-After (at most 250 ms), added to spread the calls it held back. */
  private jitter(retryAfterMs: number): number {
    return Math.round(this.random() * Math.min(250, retryAfterMs / 10));
  }

  /**
   * Waits until the upstream is not paused and a slot is free (oldest call first), within the
   * command's deadline. A call that has just waited out its own Retry-After does not wait again.
   */
  private async turn(what: string, since: number, justWaited: boolean): Promise<void> {
    for (let first = true; ; first = false) {
      const paused = this.pausedUntil - this.now();
      if (paused > 0 && !(first && justWaited)) {
        const wait = Math.min(paused, this.maxDelayMs);
        if (wait >= timeLeftMs()) throw outOfTime(this.service, `${what} was not sent while the upstream asked to wait`);
        await this.sleep(wait);
      }
      const pauseBefore = this.pausedUntil;
      await this.acquire(what, since);
      // A pause that began while this call was queued holds it too.
      if (this.pausedUntil === pauseBefore || this.pausedUntil <= this.now()) return;
      this.release();
    }
  }

  private acquire(what: string, since: number): Promise<void> {
    if (this.inFlight < this.concurrency && this.waiting.length === 0) {
      this.inFlight++;
      return Promise.resolve();
    }
    const budget = timeLeftMs();
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const waiter: Waiter = {
        since,
        seq: this.seq++,
        wake: () => {
          if (timer) clearTimeout(timer);
          this.inFlight++;
          resolve();
        },
      };
      // Oldest call first; among equals, first come first served.
      const at = this.waiting.findIndex((w) => w.since > since);
      this.waiting.splice(at === -1 ? this.waiting.length : at, 0, waiter);
      if (budget !== Infinity) {
        timer = setTimeout(() => {
          const i = this.waiting.indexOf(waiter);
          if (i !== -1) this.waiting.splice(i, 1);
          reject(outOfTime(this.service, `${what} was not sent while queued`));
        }, budget);
      }
    });
  }

  private release(): void {
    this.inFlight--;
    const next = this.waiting.shift();
    if (next) next.wake();
  }
}
