import { describe, expect, it } from 'vitest';
import { isOutage, UpstreamError } from '../../src/app/domain/errors.js';
import { mayHaveActed, retryAfterMs, RetryScheduler, UpstreamHttpError, UpstreamNoAnswerError, UpstreamNotSentError, type RetryOptions } from '../../src/providers/retry.js';
import { rejection } from '../support/rejection.js';

const NOW = Date.parse('2026-11-22T10:00:00Z');

/** A scheduler whose waits are recorded instead of slept, with a fixed clock and a chosen "random". */
function scheduler(options: RetryOptions = {}) {
  const waits: number[] = [];
  const retry = new RetryScheduler('vendor', {
    now: () => NOW,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...options,
  });
  return { retry, waits };
}

function failure(status: number, retryAfter?: string, vendorCode?: string): UpstreamHttpError {
  return new UpstreamHttpError('vendor', `vendor failed: ${status}`, { status, retryAfter, vendorCode, requestId: 'req-1', moreInfo: 'https://vendor.example/errors' });
}

/** An attempt that fails with `failures` in turn, then answers 'ok'. */
function attempts(...failures: unknown[]) {
  const seen: number[] = [];
  const fn = async (n: number) => {
    seen.push(n);
    const f = failures[n];
    if (f !== undefined) throw f;
    return 'ok';
  };
  return { fn, seen };
}


describe('RetryScheduler', () => {
  it('retries a 429 after the seconds its Retry-After asks for', async () => {
    const { retry, waits } = scheduler();
    const { fn, seen } = attempts(failure(429, '2'));

    await expect(retry.run('remove', fn)).resolves.toBe('ok');
    expect(seen).toEqual([0, 1]);
    // Plus jitter: a tenth of the wait at most (random 0.5 here), to spread the calls it held back.
    expect(waits).toEqual([2100]);
  });

  it('retries a 429 at the HTTP date its Retry-After names', async () => {
    const { retry, waits } = scheduler();
    const { fn } = attempts(failure(429, 'Sun, 22 Nov 2026 10:00:07 GMT'));

    await expect(retry.run('remove', fn)).resolves.toBe('ok');
    expect(waits).toEqual([7125]);
  });

  it.each([500, 502, 503, 504, 599])('retries a %i with exponential backoff', async (status) => {
    const { retry, waits } = scheduler({ baseDelayMs: 100, random: () => 1 - Number.EPSILON });
    const { fn, seen } = attempts(failure(status), failure(status), failure(status));

    await expect(retry.run('list', fn)).resolves.toBe('ok');
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(waits).toEqual([100, 200, 400]);
  });

  it.each([400, 401, 403, 404, 409, 422])('does not retry a %i', async (status) => {
    const { retry, waits } = scheduler();
    const { fn, seen } = attempts(failure(status));

    const err = await rejection(retry.run('remove', fn));
    expect(seen).toEqual([0]);
    expect(waits).toEqual([]);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({ status, retryable: false });
  });

  it('does not retry a failure without an answer (not sent, timed out): it may have reached the vendor', async () => {
    const { retry, waits } = scheduler();
    const timeout = new UpstreamError('vendor', 'timed out', { retryable: true });
    const { fn, seen } = attempts(timeout);

    await expect(retry.run('remove', fn)).rejects.toBe(timeout);
    expect(seen).toEqual([0]);
    expect(waits).toEqual([]);
  });

  it('keeps the jitter of each backoff between half and all of its step, and under the longest wait', async () => {
    for (const random of [0, 0.25, 0.5, 0.999999]) {
      const { retry } = scheduler({ baseDelayMs: 500, maxDelayMs: 3000, random: () => random });
      for (let n = 0; n < 8; n++) {
        const ceiling = Math.min(3000, 500 * 2 ** n);
        const delay = retry.backoff(n);
        expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
        expect(delay).toBeLessThanOrEqual(ceiling);
      }
    }
    expect(scheduler({ baseDelayMs: 500, random: () => 0 }).retry.backoff(2)).toBe(1000);
    expect(scheduler({ baseDelayMs: 500, random: () => 0.5 }).retry.backoff(2)).toBe(1500);
  });

  it('gives up after maxAttempts server errors (throttling does not count) with a retryable UpstreamError that keeps the vendor details', async () => {
    const { retry, waits } = scheduler({ maxAttempts: 3 });
    const { fn, seen } = attempts(failure(503), failure(429, '1'), failure(503), failure(503, undefined, '20503'), failure(503));

    const err = await rejection(retry.run('remove', fn));
    expect(seen).toEqual([0, 1, 2, 3]);
    expect(waits).toHaveLength(3);
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({
      code: 'UPSTREAM_FAILED',
      service: 'vendor',
      status: 503,
      retryable: true,
      vendorCode: '20503',
      requestId: 'req-1',
      moreInfo: 'https://vendor.example/errors',
    });
  });

  it('waits out throttling as long as it lasts, within maxThrottledMs: what waiting would fix, waiting fixes', async () => {
    let now = NOW;
    const waits: number[] = [];
    const retry = new RetryScheduler('vendor', {
      now: () => now,
      random: () => 0,
      sleep: async (ms) => {
        waits.push(ms);
        now += ms;
      },
    });
    const tenThrottles = attempts(...Array.from({ length: 10 }, () => failure(429, '1')));
    await expect(retry.run('remove', tenThrottles.fn)).resolves.toBe('ok');
    expect(tenThrottles.seen).toHaveLength(11);
    expect(waits).toEqual(Array.from({ length: 10 }, () => 1000));

    const endless = attempts(...Array.from({ length: 1000 }, () => failure(429, '5')));
    const err = await rejection(retry.run('remove', endless.fn));
    expect(err).toMatchObject({ status: 429, retryable: true });
    // 60 s by default: twelve 5 s waits, and the next would pass it.
    expect(endless.seen).toHaveLength(13);
  });

  it('does not wait for a Retry-After longer than its longest wait, and fails retryable at once', async () => {
    const { retry, waits } = scheduler({ maxDelayMs: 10_000 });
    const { fn, seen } = attempts(failure(429, '60'));

    const err = await rejection(retry.run('remove', fn));
    expect(seen).toEqual([0]);
    expect(waits).toEqual([]);
    expect(err).toMatchObject({ status: 429, retryable: true });
  });

  it("makes other calls to the same upstream wait out a Retry-After", async () => {
    let now = NOW;
    const waits: number[] = [];
    const retry = new RetryScheduler('vendor', {
      now: () => now,
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    await expect(retry.run('first', attempts(failure(429, '5')).fn)).resolves.toBe('ok');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(5000);

    now += 2000;
    await expect(retry.run('second', attempts().fn)).resolves.toBe('ok');
    expect(waits.slice(1)).toEqual([3000]);

    now += 3000;
    await expect(retry.run('third', attempts().fn)).resolves.toBe('ok');
    expect(waits).toHaveLength(2);
  });

  it('caps the calls in flight, and gives a freed slot to the oldest waiting call', async () => {
    const retry = new RetryScheduler('vendor', { concurrency: 2 });
    const started: string[] = [];
    const gates = new Map<string, () => void>();
    const call = (name: string) =>
      retry.run(name, () => {
        started.push(name);
        return new Promise<string>((resolve) => gates.set(name, () => resolve(name)));
      });
    const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

    const a = call('a');
    const b = call('b');
    const c = call('c');
    const d = call('d');
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect(retry.load).toMatchObject({ inFlight: 2, queued: 2 });

    gates.get('a')!();
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    gates.get('b')!();
    gates.get('c')!();
    await tick();
    expect(started).toEqual(['a', 'b', 'c', 'd']);
    gates.get('d')!();
    await expect(Promise.all([a, b, c, d])).resolves.toEqual(['a', 'b', 'c', 'd']);
    expect(retry.load).toMatchObject({ inFlight: 0, queued: 0 });
  });

  it('a Retry-After holds calls that were queued when it arrived', async () => {
    const retry = new RetryScheduler('vendor', { concurrency: 1, random: () => 0 });
    const times: Array<[string, number]> = [];
    const t0 = Date.now();
    let throttled = false;
    const first = retry.run('first', async () => {
      times.push(['first', Date.now() - t0]);
      if (!throttled) {
        throttled = true;
        await new Promise((resolve) => setTimeout(resolve, 20));
        throw failure(429, '0.3');
      }
      return 'first';
    });
    const second = retry.run('second', async () => {
      times.push(['second', Date.now() - t0]);
      return 'second';
    });
    await expect(Promise.all([first, second])).resolves.toEqual(['first', 'second']);
    const secondAt = times.find(([name]) => name === 'second')![1];
    // Queued behind the first call when its 429 came: it waited out the pause too.
    expect(secondAt).toBeGreaterThanOrEqual(300);
  });
});

describe('retryAfterMs', () => {
  it.each([
    ['0', 0],
    ['3', 3000],
    ['1.5', 1500],
    ['Sun, 22 Nov 2026 10:00:30 GMT', 30_000],
    ['Sun, 22 Nov 2026 09:00:00 GMT', 0],
  ])('reads %j as %i ms', (header, ms) => {
    expect(retryAfterMs(header, NOW)).toBe(ms);
  });

  it.each([null, undefined, '', '-1', 'soon', '2026-11-22T10:00:30Z'])('reads %j as absent', (header) => {
    expect(retryAfterMs(header, NOW)).toBeUndefined();
  });

  describe('a request that got no answer (timed out, connection reset)', () => {
    const noAnswer = () => new UpstreamNoAnswerError('vendor', 'vendor DELETE timed out', new Error('other side closed'));

    it('is not sent again unless the call is idempotent: the upstream may have acted on it', async () => {
      const { retry } = scheduler();
      const { fn, seen } = attempts(noAnswer());

      await expect(retry.run('mute', fn)).rejects.toBeInstanceOf(UpstreamNoAnswerError);
      expect(seen).toEqual([0]);
    });

    it('is sent again, with backoff, when the call is idempotent', async () => {
      const { retry, waits } = scheduler({ baseDelayMs: 100, random: () => 1 - Number.EPSILON });
      const { fn, seen } = attempts(noAnswer(), noAnswer());

      await expect(retry.run('remove', fn, { idempotent: true })).resolves.toBe('ok');
      expect(seen).toEqual([0, 1, 2]);
      expect(waits).toEqual([100, 200]);
    });

    it('counts as a server failure: after maxAttempts the last one is thrown, retryable', async () => {
      const { retry } = scheduler({ maxAttempts: 3 });
      const { fn, seen } = attempts(noAnswer(), failure(503), noAnswer(), noAnswer());

      const err = await rejection(retry.run('remove', fn, { idempotent: true }));
      expect(seen).toEqual([0, 1, 2]);
      expect(err).toBeInstanceOf(UpstreamNoAnswerError);
      expect(isOutage(err) && err.retryable).toBe(true);
    });
  });

  describe('a request that was never sent (connection refused, name not resolved)', () => {
    const notSent = () => new UpstreamNotSentError('vendor', 'vendor POST could not be sent (ECONNREFUSED)', new Error('connect ECONNREFUSED'));

    it('is sent again, idempotent or not: the upstream cannot have acted on it', async () => {
      const { retry, waits } = scheduler({ baseDelayMs: 100, random: () => 1 - Number.EPSILON });
      const { fn, seen } = attempts(notSent());

      await expect(retry.run('announce', fn)).resolves.toBe('ok');
      expect(seen).toEqual([0, 1]);
      expect(waits).toEqual([100]);
    });

    it('counts as a server failure: after maxAttempts the last one is thrown, retryable', async () => {
      const { retry } = scheduler({ maxAttempts: 2 });
      const { fn, seen } = attempts(notSent(), notSent(), notSent());

      const err = await rejection(retry.run('announce', fn));
      expect(seen).toEqual([0, 1]);
      expect(err).toBeInstanceOf(UpstreamNotSentError);
    });
  });

  it('mayHaveActed: a request without an answer or with a 5xx may have been acted on; one never sent, or a 4xx/429, was not', () => {
    expect(mayHaveActed(new UpstreamNoAnswerError('vendor', 'timed out', undefined))).toBe(true);
    expect(mayHaveActed(failure(503))).toBe(true);
    expect(mayHaveActed(new UpstreamNotSentError('vendor', 'refused', undefined))).toBe(false);
    expect(mayHaveActed(failure(429))).toBe(false);
    expect(mayHaveActed(failure(404))).toBe(false);
  });
});
