import { BouncerError } from '../../app/domain/errors.js';
import type { WriteBatch } from './write-batch.js';

/**
 * Every write of one SQLite connection goes through here: a failure becomes a coded error
 * (STORE_BUSY when another connection holds the write lock, which is retryable; STORE_FAILED
 * otherwise, keeping the cause), and each kind of write that failed is remembered until it succeeds
 * again, so that /healthz reports a store that cannot write (a full disk), not only one that cannot
 * read.
 */
export class WriteGuard {
  /** The last failure of each kind of write whose last attempt failed (contention aside). */
  private readonly failures = new Map<string, BouncerError>();

  /**
   * `onWrite`: told after every write that succeeded without a batch (the store's group commit
   * counts them). `batch`: the writes share transactions (the WAL's group commit is then told by
   * the batch, at its COMMIT); a write is finished once its batch has committed.
   */
  constructor(
    private readonly onWrite?: () => void,
    private readonly batch?: WriteBatch,
  ) {}

  /** Runs `write` and resolves with its result once it is committed (STORE_FAILED when it is not). */
  run<T>(what: string, write: () => T): Promise<T> {
    return this.guarded(what, write, () => true);
  }

  /**
   * As `run`, for a write that returns how many rows it changed: one that changed none committed
   * nothing, so the group commit is not told of it (and has nothing to sync for it).
   */
  changes(what: string, write: () => number): Promise<number> {
    return this.guarded(what, write, (changed) => changed > 0);
  }

  /** Remembers (or forgets) a failure that is no single write's own: a lost batch. */
  batchFailed(error: BouncerError | undefined): void {
    if (error) this.failures.set(BATCH, error);
    else this.failures.delete(BATCH);
  }

  private async guarded<T>(what: string, write: () => T, wrote: (result: T) => boolean): Promise<T> {
    let result: T;
    let written: Promise<void> | undefined;
    try {
      if (this.batch) ({ result, written } = this.batch.run(write, wrote));
      else result = write();
    } catch (err) {
      throw this.failed(what, err);
    }
    if (written) {
      try {
        await written;
      } catch (err) {
        throw this.failed(what, err);
      }
    } else if (wrote(result)) this.onWrite?.();
    this.failures.delete(what);
    return result;
  }

  private failed(what: string, err: unknown): BouncerError {
    const coded = toStoreError(what, err);
    // Contention passes by itself; anything else (a full disk, a read-only file) is an outage.
    if (coded.code !== 'STORE_BUSY') this.failures.set(what, coded);
    return coded;
  }

  /** A failure of a kind of write that has not succeeded since. */
  get lastFailure(): BouncerError | undefined {
    return [...this.failures.values()].at(-1);
  }
}

/** The failures map's key for a lost batch (cleared by the next batch that commits). */
const BATCH = 'commit a batch of writes';

/** SQLITE_BUSY and SQLITE_LOCKED (and their extended codes): another connection holds the lock. */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

function toStoreError(what: string, err: unknown): BouncerError {
  if (err instanceof BouncerError) return err;
  // The cause's message is for the logs only; renderers never show an error's message.
  const why = err instanceof Error ? `: ${err.message}` : '';
  return isBusy(err)
    ? new BouncerError('STORE_BUSY', `the database is busy (${what})${why}`, { cause: err })
    : new BouncerError('STORE_FAILED', `a write to the database failed (${what})${why}`, { cause: err });
}
