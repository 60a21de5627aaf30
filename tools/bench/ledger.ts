import path from 'node:path';
import Database from 'better-sqlite3';

/** An audit case as the bench checks it. */
export interface CaseRow {
  id: number;
  status: string;
  outcome: string | null;
  source: string;
  callId: string | null;
  targetUserId: string | null;
  createdAt: string;
  completedAt: string | null;
}

/**
 * Reads Bouncer's audit cases straight from its database, read-only, to check that every kick
 * the API accepted became one completed case (a number that is not checked is not a result).
 */
export interface Ledger {
  /** The highest case id so far (0: none). */
  lastId(): Promise<number>;
  /** Cases with an id above `afterId`, in id order. */
  casesAfter(afterId: number): Promise<CaseRow[]>;
  close(): Promise<void>;
}

/**
 * A DATABASE_URL as Bouncer, started in another working directory, must get it: an SQLite path
 * (`sqlite:`/`file:` or bare) made absolute against `cwd`. Throws for a database the bench cannot
 * read back. Another store is one more branch here and in openLedger (a PostgreSQL reader is the
 * same two queries over `pg`).
 */
export function benchDatabaseUrl(databaseUrl: string, cwd: string): string {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new Error('the bench cannot read cases from PostgreSQL yet: add a reader to tools/bench/ledger.ts');
  }
  if (databaseUrl === ':memory:') throw new Error('an in-memory database cannot be checked from outside Bouncer: give a file');
  return `sqlite:${path.resolve(cwd, databaseUrl.replace(/^(sqlite|file):/i, ''))}`;
}

/** A ledger over Bouncer's database, named as benchDatabaseUrl names it (it must exist: open it once Bouncer has started). */
export function openLedger(databaseUrl: string): Ledger {
  const db = new Database(databaseUrl.replace(/^sqlite:/, ''), { readonly: true, fileMustExist: true });
  const last = db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM cases');
  const after = db.prepare(
    'SELECT id, status, outcome, source, call_id AS callId, target_user_id AS targetUserId, created_at AS createdAt, completed_at AS completedAt FROM cases WHERE id > ? ORDER BY id',
  );
  return {
    lastId: () => Promise.resolve((last.get() as { id: number }).id),
    casesAfter: (afterId) => Promise.resolve(after.all(afterId) as CaseRow[]),
    close: () => Promise.resolve(void db.close()),
  };
}
