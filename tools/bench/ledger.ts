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
 * A ledger for a DATABASE_URL as Bouncer reads it (`sqlite:`/`file:` or a bare path, relative to
 * Bouncer's working directory `cwd`). Another store is one more branch here: a PostgreSQL reader
 * is the same two queries over `pg`.
 */
export function openLedger(databaseUrl: string, cwd: string): Ledger {
  if (/^postgres(ql)?:\/\//i.test(databaseUrl)) {
    throw new Error('the bench cannot read cases from PostgreSQL yet: add a reader to tools/bench/ledger.ts');
  }
  if (databaseUrl === ':memory:') throw new Error('an in-memory database cannot be checked from outside Bouncer: give a file');
  const file = path.resolve(cwd, databaseUrl.replace(/^(sqlite|file):/i, ''));
  const db = new Database(file, { readonly: true, fileMustExist: true });
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
