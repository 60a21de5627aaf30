/**
 * Work that goes on after the request that started it has been answered (a chat command that
 * outlasted Teams' answer window and is followed up later). A shutdown waits for it as for a
 * request in flight, within SHUTDOWN_GRACE_MS; work cut off leaves its case pending, for the
 * reconciler.
 */
export class BackgroundWork {
  private readonly running = new Set<Promise<unknown>>();
  private waiters: (() => void)[] = [];

  /** Tracks `work` until it settles. Its failures are the caller's to handle: they are not observed here. */
  track(work: Promise<unknown>): void {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.running.add(settled);
    void settled.then(() => {
      this.running.delete(settled);
      if (this.running.size === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  get size(): number {
    return this.running.size;
  }

  /** Resolves when nothing is running (at once if nothing is). */
  idle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
