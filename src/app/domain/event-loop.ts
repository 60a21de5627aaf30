import { performance } from 'node:perf_hooks';

/**
 * Lets the event loop run what is waiting (I/O, timers, other requests) before the caller goes on.
 * Long loops (a 10,000-participant roster) call it between slices of work, so that no request
 * waits behind one of them for long.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A time budget for one turn of the event loop: a long loop asks `spent()` as it goes (cheap) and,
 * once the budget is spent, `next()` yields and starts a new turn.
 */
export class TurnBudget {
  private started = performance.now();

  constructor(private readonly ms = 5) {}

  spent(): boolean {
    return performance.now() - this.started >= this.ms;
  }

  /** Yields when the budget is spent; otherwise goes on at once. */
  async next(): Promise<void> {
    if (!this.spent()) return;
    await yieldToEventLoop();
    this.started = performance.now();
  }
}
