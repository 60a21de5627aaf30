import pg from 'pg';
import { BouncerError } from '../../app/domain/errors.js';
import type { Store } from '../../app/ports/store.js';
import { PostgresBanStore } from './bans.js';
import { PostgresBindingStore } from './bindings.js';
import { PostgresCaseStore } from './cases.js';
import { Database, tablesOf } from './database.js';
import type { PostgresLocation } from './driver.js';
import { describeError } from './errors.js';
import { PostgresIdempotencyStore } from './idempotency.js';
import { PostgresLockdownStore } from './lockdowns.js';
import { PostgresModeratorStore } from './moderators.js';
import { PostgresModLogStore } from './modlog.js';
import { migrate } from './migrate.js';
import { PostgresRosterStore } from './roster.js';

/** How long a start waits for another instance's migrations (the advisory lock) and its own. */
const MIGRATION_TIMEOUT_MS = 60_000;
/** The client's own deadline comes this long after the server's, which should fire first. */
const CLIENT_DEADLINE_MARGIN_MS = 1_000;

/**
 * The Store for several instances: one PostgreSQL database (one schema of it) through a pool of
 * connections. Each aggregate has its own class over the pool. Every statement has a deadline
 * (statement_timeout on the server, query_timeout in the client) and so does every connection
 * (connectionTimeoutMillis, also the longest wait for a free pooled connection).
 */
export class PostgresStore implements Store {
  readonly bindings: PostgresBindingStore;
  readonly roster: PostgresRosterStore;
  readonly cases: PostgresCaseStore;
  readonly idempotency: PostgresIdempotencyStore;
  readonly moderators: PostgresModeratorStore;
  readonly bans: PostgresBanStore;
  readonly modlog: PostgresModLogStore;
  readonly lockdowns: PostgresLockdownStore;
  private readonly db: Database;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    this.db = new Database(pool, tablesOf(schema));
    this.bindings = new PostgresBindingStore(this.db);
    this.roster = new PostgresRosterStore(this.db);
    this.cases = new PostgresCaseStore(this.db);
    this.idempotency = new PostgresIdempotencyStore(this.db);
    this.moderators = new PostgresModeratorStore(this.db);
    this.bans = new PostgresBanStore(this.db);
    this.modlog = new PostgresModLogStore(this.db);
    this.lockdowns = new PostgresLockdownStore(this.db);
  }

  /**
   * Connects, and brings the schema up to date under an advisory lock (instances starting together
   * migrate once). Throws STORE_FAILED, naming the server (never the password) and keeping the
   * cause, when it cannot.
   */
  static async open(location: PostgresLocation): Promise<PostgresStore> {
    try {
      await migrateOnce(location);
    } catch (err) {
      const why = describeError(err);
      throw new BouncerError('STORE_FAILED', `cannot open the PostgreSQL store at ${location.where} (schema ${location.schema}): ${why}`, { cause: err });
    }
    const pool = new pg.Pool({
      ...connectionOptions(location, location.statementTimeoutMs),
      max: location.poolMax,
      idleTimeoutMillis: 30_000,
    });
    // A pooled connection that breaks while idle (the server restarted) is dropped by the pool and
    // the next query opens another; without a listener, its 'error' event would end the process.
    pool.on('error', () => undefined);
    return new PostgresStore(pool, location.schema);
  }

  /** Reads, and fails while a kind of write that failed (a full disk, a read-only server) has not succeeded again. */
  async ping(): Promise<void> {
    await this.db.read('ping', 'SELECT 1');
    const failure = this.db.lastFailure;
    if (failure) throw new BouncerError('STORE_FAILED', 'the last write to the database failed', { cause: failure });
  }

  /** A PostgreSQL commit is on disk once it returns (synchronous_commit, the server's default). */
  async durable(): Promise<void> {}

  /** Closes the pool (waiting for statements in flight). Safe to call twice. */
  async close(): Promise<void> {
    this.closing ??= this.pool.end();
    await this.closing;
  }
}

/** Options every connection gets: the URL (with Bouncer's options taken out) and the deadlines. */
function connectionOptions(location: PostgresLocation, statementTimeoutMs: number): pg.ClientConfig {
  return {
    connectionString: location.url,
    // The URL's application_name, when it has one, wins: node-postgres lets the URL override these.
    application_name: 'bouncer',
    connectionTimeoutMillis: location.connectTimeoutMs,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + CLIENT_DEADLINE_MARGIN_MS,
    // A transaction left open by a process that stalled must not hold its locks for long.
    idle_in_transaction_session_timeout: Math.max(10_000, statementTimeoutMs * 2),
    keepAlive: true,
  };
}

/** Migrates on a connection of its own, with a longer deadline (it may wait for another instance), then closes it. */
async function migrateOnce(location: PostgresLocation): Promise<void> {
  const client = new pg.Client(connectionOptions(location, Math.max(MIGRATION_TIMEOUT_MS, location.statementTimeoutMs)));
  // Errors of a broken connection reach the query under way; this keeps the event from ending the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await migrate(client, location.schema);
  } finally {
    // Ending the session also rolls back a migration that failed and releases the lock. A failure
    // to end a connection that is already broken changes nothing: the server drops the session.
    await client.end().catch(() => undefined);
  }
}
