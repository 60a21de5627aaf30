import { randomBytes } from 'node:crypto';
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
  /** How many chat bindings are in each call state (establishing, established, terminated). */
  bindingStates(): Promise<Record<string, number>>;
  /** Closes the connection; with `dropSchema`, first drops the PostgreSQL schema made for the run. */
  close(options?: { dropSchema?: boolean }): Promise<void>;
}

const COLUMNS =
  'id, status, outcome, source, call_id AS "callId", target_user_id AS "targetUserId", created_at AS "createdAt", completed_at AS "completedAt"';

const POSTGRES = /^postgres(ql)?:\/\//i;
/** Bouncer's own query options on a PostgreSQL URL (src/store/postgres/driver.ts), not node-postgres'. */
const BOUNCER_OPTIONS = ['schema', 'max', 'statement_timeout', 'connect_timeout'];

/**
 * A DATABASE_URL as Bouncer, started in another working directory, must get it: an SQLite path
 * (`sqlite:`/`file:` or bare) made absolute against `cwd`; a PostgreSQL URL without a `schema`
 * gets a new one of its own (`bench_<random>`, created by Bouncer), so that the run starts empty.
 * Throws for a database the bench cannot read back.
 */
export function benchDatabaseUrl(databaseUrl: string, cwd: string): string {
  if (POSTGRES.test(databaseUrl)) {
    const url = new URL(databaseUrl);
    if (!url.searchParams.has('schema')) url.searchParams.set('schema', `bench_${randomBytes(6).toString('hex')}`);
    return url.toString();
  }
  if (databaseUrl === ':memory:') throw new Error('an in-memory database cannot be checked from outside Bouncer: give a file');
  return `sqlite:${path.resolve(cwd, databaseUrl.replace(/^(sqlite|file):/i, ''))}`;
}

/** A ledger over Bouncer's database, named as benchDatabaseUrl names it (open it once Bouncer has started). */
export async function openLedger(databaseUrl: string): Promise<Ledger> {
  return POSTGRES.test(databaseUrl) ? postgresLedger(databaseUrl) : sqliteLedger(databaseUrl);
}

function sqliteLedger(databaseUrl: string): Ledger {
  const db = new Database(databaseUrl.replace(/^sqlite:/, ''), { readonly: true, fileMustExist: true });
  const last = db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM cases');
  const after = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE id > ? ORDER BY id`);
  const states = db.prepare('SELECT state, COUNT(*) AS n FROM bindings GROUP BY state');
  return {
    lastId: () => Promise.resolve((last.get() as { id: number }).id),
    casesAfter: (afterId) => Promise.resolve(after.all(afterId) as CaseRow[]),
    bindingStates: () => Promise.resolve(Object.fromEntries((states.all() as Array<{ state: string; n: number }>).map((r) => [r.state, r.n]))),
    close: () => Promise.resolve(void db.close()),
  };
}

async function postgresLedger(databaseUrl: string): Promise<Ledger> {
  const url = new URL(databaseUrl);
  const schema = url.searchParams.get('schema') ?? 'public';
  for (const option of BOUNCER_OPTIONS) url.searchParams.delete(option);
  // Loaded only here, as Bouncer loads it: an SQLite run never needs node-postgres.
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  const table = (name: string) => `"${schema.replaceAll('"', '""')}".${name}`;
  const cases = table('cases');
  return {
    async lastId() {
      const { rows } = await client.query<{ id: string }>(`SELECT COALESCE(MAX(id), 0) AS id FROM ${cases}`);
      return Number(rows[0]?.id ?? 0);
    },
    async casesAfter(afterId) {
      const { rows } = await client.query<CaseRow & { id: string }>(`SELECT ${COLUMNS} FROM ${cases} WHERE id > $1 ORDER BY id`, [afterId]);
      return rows.map((r) => ({ ...r, id: Number(r.id) }));
    },
    async bindingStates() {
      const { rows } = await client.query<{ state: string; n: string }>(`SELECT state, COUNT(*) AS n FROM ${table('bindings')} GROUP BY state`);
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async close(options = {}) {
      try {
        if (options.dropSchema) await client.query(`DROP SCHEMA "${schema.replaceAll('"', '""')}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
