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
  /** Attempts in all, the first one included (default 4). */
  maxAttempts?: number;
  /** The first backoff step, doubled on each retry (default 500 ms). */
  baseDelayMs?: number;
  /**
   * Longest single wait (default 30 s). Backoff is capped at it; a Retry-After beyond it is not
   * waited for: the failure is thrown at once (retryable, for the caller's caller to decide).
   */
  maxDelayMs?: number;
  /** [0, 1); Math.random by default. Injected so that tests are deterministic. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  logger?: Logger;
}

/**
 * The one retry policy for an upstream (Graph, Twilio): one instance per upstream, shared by every
 * call to it. Retries an `UpstreamHttpError` whose status is 429 or 5xx, honouring Retry-After, else
 * with exponential backoff and jitter; gives up after `maxAttempts` by throwing the last failure
 * (an UpstreamError with the vendor's details, retryable). Failures without a status (not sent,
 * timed out) are not retried: the request may have reached the upstream.
 *
 * A Retry-After pauses the whole upstream, not only the request that received it: every attempt
 * through this scheduler waits until the pause is over.
 *
 * Inside a command (src/app/domain/deadline.ts) no wait outlasts the command's deadline: a wait
 * that would is not started, and the last failure is thrown at once (retryable).
 */
export class RetryScheduler {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;
  private pausedUntil = 0;

  constructor(
    readonly service: string,
    private readonly options: RetryOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  /** Runs `attempt` until it succeeds, fails for good, or the attempts are used up. `what` names it in logs. */
  async run<T>(what: string, attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
    let justWaited = false;
    for (let n = 0; ; n++) {
      // Another call's Retry-After holds for this one too (a retry has just waited its own).
      const paused = this.pausedUntil - this.now();
      if (!justWaited && paused > 0) {
        const wait = Math.min(paused, this.maxDelayMs);
        if (wait >= timeLeftMs()) throw outOfTime(this.service, `${what} was not sent while the upstream asked to wait`);
        await this.sleep(wait);
      }
      justWaited = false;
      try {
        return await attempt(n);
      } catch (err) {
        if (!(err instanceof UpstreamHttpError) || !err.retryable || n + 1 >= this.maxAttempts) throw err;
        const asked = retryAfterMs(err.retryAfter, this.now());
        if (asked !== undefined && asked > this.maxDelayMs) {
          this.options.logger?.warn({ service: this.service, what, status: err.status, retryAfterMs: asked }, 'upstream asked to wait longer than Bouncer waits');
          throw err;
        }
        const delay = asked ?? this.backoff(n);
        if (asked !== undefined) this.pausedUntil = Math.max(this.pausedUntil, this.now() + asked);
        if (delay >= timeLeftMs()) {
          this.options.logger?.warn({ service: this.service, what, status: err.status, delayMs: delay }, "no time left in the command's deadline to retry");
          throw err;
        }
        this.options.logger?.warn(
          { service: this.service, what, status: err.status, vendorCode: err.vendorCode, attempt: n, delayMs: delay },
          'upstream failed; retrying',
        );
        await this.sleep(delay);
        justWaited = true;
      }
    }
  }

  /** Exponential backoff with "equal jitter": between half and all of base·2^n, capped at maxDelayMs. */
  backoff(retry: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }
}
