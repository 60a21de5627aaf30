import { mkdirSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BouncerError } from '../../app/domain/errors.js';
import type { Store } from '../../app/ports/store.js';
import { SqliteBanStore } from './bans.js';
import { SqliteBindingStore } from './bindings.js';
import { SqliteCaseStore } from './cases.js';
import { SqliteIdempotencyStore } from './idempotency.js';
import { SqliteLockdownStore } from './lockdowns.js';
import { SqliteModeratorStore } from './moderators.js';
import { SqliteModLogStore } from './modlog.js';
import { SqliteRosterStore } from './roster.js';
import { MIGRATIONS } from './schema.js';
import { WalSync } from './wal-sync.js';
import { WriteBatch } from './write-batch.js';
import { WriteGuard } from './write-guard.js';

/**
 * The embedded default Store: one SQLite file (WAL mode), or ':memory:' for tests. Each aggregate
 * has its own class over the one connection. The writes of one turn of the event loop share one
 * transaction (WriteBatch); each write resolves once that transaction has committed.
 */
export class SqliteStore implements Store {
  readonly bindings: SqliteBindingStore;
  readonly roster: SqliteRosterStore;
  readonly cases: SqliteCaseStore;
  readonly idempotency: SqliteIdempotencyStore;
  readonly moderators: SqliteModeratorStore;
  readonly bans: SqliteBanStore;
  readonly modlog: SqliteModLogStore;
  readonly lockdowns: SqliteLockdownStore;
  private readonly db: Database.Database;
  private readonly probe: Database.Statement<[]>;
  private readonly guard: WriteGuard;
  /** The open transaction that the writes of this turn of the event loop share. */
  private readonly batch: WriteBatch;

  private constructor(
    db: Database.Database,
    /** The WAL's group commit; none where every commit is synced by SQLite itself (or ':memory:'). */
    private readonly walSync?: WalSync,
  ) {
    this.db = db;
    this.batch = new WriteBatch(db, {
      committed: (changed) => {
        walSync?.wrote(changed);
        this.guard.batchFailed(undefined);
      },
      lost: (error) => this.guard.batchFailed(error),
    });
    this.guard = new WriteGuard(undefined, this.batch);
    this.bindings = new SqliteBindingStore(db, this.guard);
    this.roster = new SqliteRosterStore(db, this.guard);
    this.idempotency = new SqliteIdempotencyStore(db, this.guard);
    this.cases = new SqliteCaseStore(db, { roster: this.roster, idempotency: this.idempotency }, this.guard);
    this.moderators = new SqliteModeratorStore(db, this.guard);
    this.bans = new SqliteBanStore(db, this.guard);
    this.modlog = new SqliteModLogStore(db, this.guard);
    this.lockdowns = new SqliteLockdownStore(db, this.guard);
    this.probe = db.prepare('SELECT 1');
  }

  /**
   * Opens the database at `file` (or ':memory:'), creating its folders and bringing its schema up
   * to date. Throws STORE_FAILED, keeping the cause, when it cannot. `options.sync` replaces the
   * WAL file's fdatasync (tests count the syncs).
   */
  static open(file: string, options: { sync?: (file: FileHandle) => Promise<void> } = {}): SqliteStore {
    let db: Database.Database | undefined;
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file);
      const wal = file !== ':memory:' && String(db.pragma('journal_mode = WAL', { simple: true })).toLowerCase() === 'wal';
      // In WAL mode a commit need not wait for the disk (synchronous = NORMAL): `durable()` syncs
      // the WAL for every commit so far, off the event loop, before anything is answered or done
      // upstream. Elsewhere (no WAL) SQLite's default, a sync on every commit, stays.
      if (wal) db.pragma('synchronous = NORMAL');
      // At start, wait a while for another process's migration or write to finish.
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      // Then fail fast: the driver is synchronous, so every millisecond waited here is a millisecond
      // the whole server stalls. Contention becomes a retryable STORE_BUSY (answered 503, or "try
      // again" in chat), never a frozen event loop. This connection is the process's one writer.
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      return new SqliteStore(db, wal ? new WalSync(`${file}-wal`, options.sync) : undefined);
    } catch (err) {
      if (db?.open) db.close();
      throw new BouncerError('STORE_FAILED', `cannot open the SQLite database at ${file}`, { cause: err });
    }
  }

  /**
   * Reads, and fails while a kind of write that failed (a full disk) has not succeeded again, or
   * for good once a sync of the WAL failed (see WalSync).
   */
  async ping(): Promise<void> {
    this.probe.get();
    const broken = this.walSync?.failure;
    if (broken) throw new BouncerError('STORE_FAILED', 'the database could not sync its writes to disk (restart Bouncer)', { cause: broken });
    const failure = this.guard.lastFailure;
    if (failure) throw new BouncerError('STORE_FAILED', 'the last write to the database failed', { cause: failure });
  }

  async durable(): Promise<void> {
    if (!this.walSync) return;
    try {
      await this.walSync.durable();
    } catch (err) {
      throw new BouncerError('STORE_FAILED', 'the database could not sync its writes to disk', { cause: err });
    }
  }

  async close(): Promise<void> {
    // What the last turn wrote is committed (its writers learn of a failure), then synced.
    if (this.db.open) this.batch.commit();
    await this.durable().catch(() => undefined);
    await this.walSync?.close();
    if (this.db.open) this.db.close();
  }
}

/** How long a write waits for another connection's write lock before it fails as STORE_BUSY. */
const BUSY_TIMEOUT_MS = 50;

/** Applies the migrations `user_version` says are missing, each in its own transaction. */
function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}
