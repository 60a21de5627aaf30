import type pg from 'pg';
import type { BouncerError } from '../../app/domain/errors.js';
import { isConnectionFailure, toStoreError } from './errors.js';

/** The tables, qualified with the store's schema (quoted: safe to put in SQL). */
export interface Tables {
  bindings: string;
  callStates: string;
  roster: string;
  cases: string;
  idempotencyKeys: string;
  moderators: string;
  bans: string;
  banIdentities: string;
  modlogChannels: string;
  caseReasonEdits: string;
  lockdowns: string;
  schemaMigrations: string;
  /** The schema's RFC 7396 JSON merge-patch function (SQLite's json_patch). */
  mergePatch: string;
}

/** A quoted identifier. Schema names are checked when the URL is parsed; quoting is the second fence. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function tablesOf(schema: string): Tables {
  const q = (name: string) => `${quoteIdent(schema)}.${quoteIdent(name)}`;
  return {
    bindings: q('bindings'),
    callStates: q('call_states'),
    roster: q('roster'),
    cases: q('cases'),
    idempotencyKeys: q('idempotency_keys'),
    moderators: q('moderators'),
    bans: q('bans'),
    banIdentities: q('ban_identities'),
    modlogChannels: q('modlog_channels'),
    caseReasonEdits: q('case_reason_edits'),
    lockdowns: q('lockdowns'),
    schemaMigrations: q('schema_migrations'),
    mergePatch: q('json_merge_patch'),
  };
}

/** Runs statements inside one transaction. */
export interface Tx {
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The one way the aggregates reach PostgreSQL: statements on the pool or in a transaction, every
 * failure as a coded error (errors.ts). Like the SQLite store's write guard, it remembers each
 * kind of write that failed (contention and lost connections aside: a ping sees the server itself)
 * until that kind succeeds again, so that /healthz reports a store that cannot write (a full disk,
 * a read-only server), not only one that cannot be reached.
 */
export class Database {
  private readonly failures = new Map<string, BouncerError>();

  constructor(
    private readonly pool: pg.Pool,
    readonly tables: Tables,
  ) {}

  /** A read: one statement on any pooled connection. */
  async read<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<R[]> {
    try {
      return (await this.pool.query<R>(sql, sanitizeParams(params))).rows;
    } catch (err) {
      throw toStoreError(what, err);
    }
  }

  /** A write of one statement (atomic by itself). */
  async write<R extends pg.QueryResultRow>(what: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.guard(what, () => this.pool.query<R>(sql, sanitizeParams(params)));
  }

  /** Several statements as one transaction (READ COMMITTED): all or none. */
  async transaction<T>(what: string, work: (tx: Tx) => Promise<T>): Promise<T> {
    return this.guard(what, async () => {
      const client = await this.pool.connect();
      // A checked-out connection has no error listener of the pool's: without one, a connection
      // that breaks between two statements would be an uncaught 'error' event.
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await work({ query: (sql, params = []) => client.query(sql, sanitizeParams(params)) });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        // A connection that broke or did not answer is closed below: that rolls the transaction
        // back, where a ROLLBACK would only wait for the deadline again.
        if (isConnectionFailure(err)) broken ??= err instanceof Error ? err : new Error(String(err));
        if (!broken) {
          try {
            await client.query('ROLLBACK');
          } catch (rollbackFailed) {
            broken = rollbackFailed instanceof Error ? rollbackFailed : new Error(String(rollbackFailed));
          }
        }
        throw err;
      } finally {
        client.removeListener('error', onError);
        // A connection that broke or could not roll back is closed, not handed to the next caller.
        client.release(broken);
      }
    });
  }

  /** A failure of a kind of write that has not succeeded since (for ping). */
  get lastFailure(): BouncerError | undefined {
    return [...this.failures.values()].at(-1);
  }

  private async guard<T>(what: string, write: () => Promise<T>): Promise<T> {
    try {
      const result = await write();
      this.failures.delete(what);
      return result;
    } catch (err) {
      const coded = toStoreError(what, err);
      if (coded.code !== 'STORE_BUSY' && !isConnectionFailure(err)) this.failures.set(what, coded);
      throw coded;
    }
  }
}

/**
 * PostgreSQL text cannot hold U+0000 (SQLite can): it is stored as U+FFFD, the replacement
 * character, so that a NUL in a reason or a name does not fail the write. JSON parameters are
 * passed as text (JSON.stringify), where a NUL is the escape \u0000; that escape is replaced too
 * (jsonb refuses it), but not a literal backslash followed by "u0000".
 */
export function sanitizeParams(params: unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'string' ? sanitizeText(p) : Array.isArray(p) ? p.map((x) => (typeof x === 'string' ? sanitizeText(x) : x)) : p));
}

function sanitizeText(text: string): string {
  return text.replaceAll('\0', '\uFFFD');
}

/** JSON text for a json/jsonb parameter, with NUL escapes replaced (see sanitizeParams). */
export function jsonParam(value: unknown): string {
  return JSON.stringify(value ?? null).replace(/(?<=(?:^|[^\\])(?:\\\\)*)\\u0000/g, '\\ufffd');
}
