import { describe, expect, it } from 'vitest';
import { BackgroundWork } from '../../src/background-work.js';
import { awaitWithin, callBudgetMs, timeLeftMs, withDeadline } from '../../src/app/domain/deadline.js';
import { UpstreamError } from '../../src/app/domain/errors.js';
import { RetryScheduler, UpstreamHttpError } from '../../src/providers/retry.js';

const throttled = (retryAfter: string) => new UpstreamHttpError('graph', 'Graph DELETE failed: 429', { status: 429, retryAfter });

describe('the command deadline', () => {
  it('is unlimited outside a command, and bounds every call budget inside one', async () => {
    expect(timeLeftMs()).toBe(Infinity);
    expect(callBudgetMs(15_000)).toBe(15_000);
    await withDeadline(1_000, async () => {
      expect(timeLeftMs()).toBeGreaterThan(900);
      expect(timeLeftMs()).toBeLessThanOrEqual(1_000);
      expect(callBudgetMs(15_000)).toBeLessThanOrEqual(1_000);
      expect(callBudgetMs(200)).toBe(200);
    });
  });

  it('a nested deadline never extends the one in force', async () => {
    await withDeadline(500, () =>
      withDeadline(60_000, async () => {
        expect(timeLeftMs()).toBeLessThanOrEqual(500);
      }),
    );
  });

  it('follows the work across awaits and timers', async () => {
    await withDeadline(2_000, async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(timeLeftMs()).toBeLessThan(2_000);
      expect(timeLeftMs()).toBeGreaterThan(1_000);
    });
  });

  it('a retry wait that would outlast the deadline is not started: the throttling answer is thrown at once', async () => {
    const waits: number[] = [];
    const retry = new RetryScheduler('graph', { sleep: async (ms) => void waits.push(ms) });
    let attempts = 0;
    const failing = () => {
      attempts++;
      return Promise.reject(throttled('25'));
    };

    await expect(withDeadline(2_000, () => retry.run('Graph DELETE', failing))).rejects.toBeInstanceOf(UpstreamHttpError);
    expect(attempts).toBe(1);
    expect(waits).toEqual([]);
  });

  it('a retry wait that fits is waited', async () => {
    const waits: number[] = [];
    const retry = new RetryScheduler('graph', { sleep: async (ms) => void waits.push(ms) });
    let attempts = 0;
    const result = await withDeadline(10_000, () =>
      retry.run('Graph DELETE', () => (++attempts === 1 ? Promise.reject(throttled('1')) : Promise.resolve('done'))),
    );
    expect(result).toBe('done');
    expect(waits).toHaveLength(1);
    expect(waits[0]).toBeGreaterThanOrEqual(1_000);
    expect(waits[0]).toBeLessThanOrEqual(1_100);
  });

  it('awaitWithin gives up on a call that never answers, as a retryable upstream failure', async () => {
    const never = new Promise<never>(() => undefined);
    const started = Date.now();
    const err = await awaitWithin(never, 50, 'teams', 'Teams member lookup').catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(UpstreamError);
    expect(err).toMatchObject({ service: 'teams', retryable: true, message: 'Teams member lookup timed out after 50 ms' });
    await expect(awaitWithin(Promise.resolve(7), 50, 'teams', 'x')).resolves.toBe(7);
    await expect(awaitWithin(never, 0, 'teams', 'x')).rejects.toMatchObject({ retryable: true });
  });
});

describe('BackgroundWork', () => {
  it('is idle when nothing runs, and becomes idle when the last tracked work settles, failed or not', async () => {
    const work = new BackgroundWork();
    await work.idle();
    let finish!: () => void;
    let fail!: (e: Error) => void;
    work.track(new Promise<void>((resolve) => (finish = resolve)));
    work.track(new Promise<void>((_, reject) => (fail = reject)));
    expect(work.size).toBe(2);
    let idle = false;
    void work.idle().then(() => (idle = true));
    finish();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(idle).toBe(false);
    fail(new Error('boom'));
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(idle).toBe(true);
    expect(work.size).toBe(0);
  });
});
