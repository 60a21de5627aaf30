/**
 * Runs `attempt` (a statement that takes SQLite's write lock, on a connection of the test's own
 * opened with `timeout: 0`) until it is not SQLITE_BUSY, for up to 5 s. Bouncer holds the write
 * lock for the rest of a turn of the event loop once it wrote (its writes of a turn share one
 * transaction), and the test runs on that event loop: waiting in place (a busy timeout) would keep
 * the turn from ending, so each retry waits for the next turn instead.
 */
export async function whenUnlocked(attempt: () => void): Promise<void> {
  for (const giveUpAt = Date.now() + 5_000; ; ) {
    try {
      attempt();
      return;
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || Date.now() > giveUpAt) throw err;
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}
