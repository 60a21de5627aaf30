import { BouncerError } from '../../app/domain/errors.js';
import type { IdempotencyRecord, IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import { IDEMPOTENCY_COLUMNS, idempotencyReader } from '../rows/idempotency.js';
import { postgresColumns } from './columns.js';
import { jsonParam, type Database } from './database.js';

// The response body is a json column: node-postgres has parsed it already.
const toRecord = idempotencyReader(postgresColumns);

/** How many times a claim tries again when the key it collided with vanished before it could be read. */
const CLAIM_ATTEMPTS = 3;

/** Idempotency keys of webhook requests and activities: the `idempotency_keys` table, shared by every instance. */
export class PostgresIdempotencyStore implements IdempotencyStore {
  private readonly sql: { purgeExpired: string; insertPending: string; storeResponse: string; holdResponse: string; deletePending: string; byKey: string };

  constructor(private readonly db: Database) {
    const { idempotencyKeys } = db.tables;
    this.sql = {
      // SKIP LOCKED: two claims purging at once do not wait for (or deadlock on) each other's rows;
      // a row another claim is deleting is gone when that one commits.
      purgeExpired: `DELETE FROM ${idempotencyKeys} WHERE key IN (
           SELECT key FROM ${idempotencyKeys} WHERE expires_at <= $1 FOR UPDATE SKIP LOCKED)`,
      // A concurrent claim of the same key waits here for the first one's commit, then sees the
      // conflict: exactly one of them inserts.
      insertPending: `INSERT INTO ${idempotencyKeys} (key, request_hash, state, created_at, expires_at)
         VALUES ($1, $2, 'pending', $3, $4) ON CONFLICT (key) DO NOTHING`,
      storeResponse: `UPDATE ${idempotencyKeys} SET state = 'done', response_status = $2, response_body = $3::json WHERE key = $1`,
      // An interim answer on a key still pending; a key already done (or gone) is left as it is.
      holdResponse: `UPDATE ${idempotencyKeys} SET response_status = $2, response_body = $3::json WHERE key = $1 AND state = 'pending'`,
      deletePending: `DELETE FROM ${idempotencyKeys} WHERE key = $1 AND state = 'pending'`,
      byKey: `SELECT ${IDEMPOTENCY_COLUMNS} FROM ${idempotencyKeys} WHERE key = $1`,
    };
  }

  async claim(key: string, requestHash: string, at: string, expiresAt: string): Promise<IdempotencyRecord | undefined> {
    return this.db.transaction('claim an idempotency key', async (tx) => {
      await tx.query(this.sql.purgeExpired, [at]);
      for (let attempt = 1; attempt <= CLAIM_ATTEMPTS; attempt++) {
        const inserted = await tx.query(this.sql.insertPending, [key, requestHash, at, expiresAt]);
        if (inserted.rowCount === 1) return undefined;
        // READ COMMITTED: this statement sees the row the conflicting claim committed, unless it
        // was released (or purged) in between; then the key is free again.
        const { rows } = await tx.query(this.sql.byKey, [key]);
        if (rows[0] !== undefined) return toRecord(rows[0]);
      }
      throw new BouncerError('STORE_BUSY', `the idempotency key was claimed and released ${CLAIM_ATTEMPTS} times during one claim`);
    });
  }

  async complete(key: string, response: StoredResponse): Promise<void> {
    await this.db.write('complete an idempotency key', this.sql.storeResponse, [key, response.status, jsonParam(response.body ?? null)]);
  }

  async hold(key: string, response: StoredResponse): Promise<void> {
    await this.db.write('hold an idempotency key', this.sql.holdResponse, [key, response.status, jsonParam(response.body ?? null)]);
  }

  async release(key: string): Promise<void> {
    await this.db.write('release an idempotency key', this.sql.deletePending, [key]);
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    const rows = await this.db.read('read an idempotency key', this.sql.byKey, [key]);
    return rows[0] === undefined ? undefined : toRecord(rows[0]);
  }
}
