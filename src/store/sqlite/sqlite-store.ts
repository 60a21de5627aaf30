import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BouncerError } from '../../app/domain/errors.js';
import type { Store } from '../../app/ports/store.js';
import { SqliteBindingStore } from './bindings.js';
import { SqliteCaseStore } from './cases.js';
import { SqliteIdempotencyStore } from './idempotency.js';
import { SqliteRosterStore } from './roster.js';
import { MIGRATIONS } from './schema.js';

/**
 * The embedded default Store: one SQLite file (WAL mode), or ':memory:' for tests. Each aggregate
 * has its own class over the one connection.
 */
export class SqliteStore implements Store {
  readonly bindings: SqliteBindingStore;
  readonly roster: SqliteRosterStore;
  readonly cases: SqliteCaseStore;
  readonly idempotency: SqliteIdempotencyStore;
  private readonly db: Database.Database;
  private readonly probe: Database.Statement<[]>;

  private constructor(db: Database.Database) {
    this.db = db;
    this.bindings = new SqliteBindingStore(db);
    this.roster = new SqliteRosterStore(db);
    this.cases = new SqliteCaseStore(db);
    this.idempotency = new SqliteIdempotencyStore(db);
    this.probe = db.prepare('SELECT 1');
  }

  /**
   * Opens the database at `file` (or ':memory:'), creating its folders and bringing its schema up
   * to date. Throws STORE_FAILED, keeping the cause, when it cannot.
   */
  static open(file: string): SqliteStore {
    let db: Database.Database | undefined;
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStore(db);
    } catch (err) {
      if (db?.open) db.close();
      throw new BouncerError('STORE_FAILED', `cannot open the SQLite database at ${file}`, { cause: err });
    }
  }

  async ping(): Promise<void> {
    this.probe.get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

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
