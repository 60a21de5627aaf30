import type Database from 'better-sqlite3';
import { BouncerError } from '../../app/domain/errors.js';

/** Taken when this module loads, so that a test's fake timers cannot hold a batch open forever. */
const nextTurn: (run: () => void) => void = globalThis.setImmediate.bind(globalThis);

/**
 * A batch may hold this many writes; the one that fills it commits it at once. It bounds the
 * transaction (and the WAL frames one COMMIT writes) when a single turn of the event loop writes a
 * great deal, e.g. a roster sync of thousands of participants.
 */
export const MAX_BATCH_WRITES = 512;

/**
 * Group commit at the SQL level: the writes of one turn of the event loop share one SQLite
 * transaction. The first write of a turn opens it (BEGIN IMMEDIATE, so the write lock is taken
 * there, and a busy database fails that one write as STORE_BUSY before anything else joined the
 * batch); the turn's end (setImmediate), a full batch, or `commit()` (close) commits it. One COMMIT
 * for many writes writes each page they share to the WAL once, where a COMMIT per write would write
 * it again every time.
 *
 * A write is not finished until its batch has committed: `written()` gives the promise its caller
 * awaits, which rejects (STORE_FAILED) when the batch was lost, so that nobody answers a request or
 * acts upstream on a write that is not in the database. A write that fails by itself (a
 * constraint) is undone alone: a single statement by SQLite's statement rollback, a better-sqlite3
 * transaction function by the savepoint it becomes inside the batch. A failure that SQLite answers
 * by rolling back the whole transaction (a full disk, an I/O error, out of memory), or that may
 * leave it in doubt, loses the batch: every write in it fails. So does a COMMIT that fails.
 */
export class WriteBatch {
  private current?: OpenBatch;
  /** Batches committed so far (for tests and diagnostics). */
  commits = 0;
  private readonly begin: Database.Statement<[]>;
  private readonly commitStatement: Database.Statement<[]>;
  private readonly rollback: Database.Statement<[]>;

  constructor(
    private readonly db: Database.Database,
    private readonly events: {
      /** A batch committed: `changed` of its writes changed something (the WAL has their frames). */
      committed(changed: number): void;
      /** A batch was lost; every write in it failed with `error`. */
      lost(error: BouncerError): void;
    },
  ) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commitStatement = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /**
   * Runs `write` inside the open batch (opening one if there is none) and returns its result, or
   * throws what it threw (the batch goes on without it, unless the failure lost the batch).
   * `changed(result)`: whether the write changed anything (one that changed nothing needs no sync).
   */
  run<T>(write: () => T, changed: (result: T) => boolean): { result: T; written: Promise<void> } {
    const batch = this.open();
    let result: T;
    try {
      result = write();
    } catch (err) {
      if (!this.db.inTransaction || losesTransaction(err)) this.lose(batch, err);
      else if (batch.writes === 0 && batch === this.current) this.commit(); // an empty batch holds the lock for nothing
      throw err;
    }
    batch.writes++;
    if (changed(result)) batch.changed++;
    if (batch.writes >= MAX_BATCH_WRITES) this.commit();
    return { result, written: batch.done };
  }

  /** Commits the open batch now, if there is one. Its writers learn the outcome from their promise. */
  commit(): void {
    const batch = this.current;
    if (!batch) return;
    this.current = undefined;
    try {
      this.commitStatement.run();
    } catch (err) {
      // A COMMIT that fails may leave the transaction open (a deferred constraint, a busy lock).
      if (this.db.inTransaction) this.tryRollback();
      this.fail(batch, err, 'the database could not commit a batch of writes');
      return;
    }
    this.commits++;
    this.events.committed(batch.changed);
    batch.resolve();
  }

  /** Whether a batch is open (its writes are visible on this connection only). */
  get pending(): boolean {
    return this.current !== undefined;
  }

  private open(): OpenBatch {
    if (this.current) {
      if (this.db.inTransaction) return this.current;
      // Rolled back under us outside `run` (nothing here does that): its writes are gone.
      this.lose(this.current, new Error('the transaction of a batch of writes ended without a COMMIT'));
    }
    // Throws (STORE_BUSY, via the guard) when another connection holds the write lock; no batch then.
    this.begin.run();
    let resolve!: () => void;
    let reject!: (err: BouncerError) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Each writer awaits `done`; this only keeps a batch whose writers all failed from being unhandled.
    done.catch(() => undefined);
    const batch: OpenBatch = { done, resolve, reject, writes: 0, changed: 0 };
    this.current = batch;
    nextTurn(() => {
      if (this.current === batch) this.commit();
    });
    return batch;
  }

  private lose(batch: OpenBatch, err: unknown): void {
    if (this.current === batch) this.current = undefined;
    if (this.db.inTransaction) this.tryRollback();
    this.fail(batch, err, 'a batch of writes was rolled back');
  }

  private fail(batch: OpenBatch, err: unknown, what: string): void {
    const why = err instanceof Error ? `: ${err.message}` : '';
    const error = new BouncerError('STORE_FAILED', `${what}${why}`, { cause: err });
    this.events.lost(error);
    batch.reject(error);
  }

  private tryRollback(): void {
    try {
      this.rollback.run();
    } catch {
      // Already rolled back by SQLite; nothing of the batch is left either way.
    }
  }
}

interface OpenBatch {
  done: Promise<void>;
  resolve(): void;
  reject(err: BouncerError): void;
  /** Writes that succeeded in it, and how many of them changed something. */
  writes: number;
  changed: number;
}

/**
 * Errors after which SQLite may have rolled back the whole transaction, or advises doing so
 * (https://www.sqlite.org/lang_transaction.html, "Response To Errors Within A Transaction"): the
 * batch is rolled back and lost rather than committed in doubt.
 */
function losesTransaction(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^SQLITE_(FULL|IOERR|NOMEM|BUSY|LOCKED|CORRUPT|NOTADB|INTERRUPT|ABORT|CANTOPEN|PROTOCOL)/.test(code);
}
