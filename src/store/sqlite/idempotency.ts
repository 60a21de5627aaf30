import type Database from 'better-sqlite3';
import type { IdempotencyRecord, IdempotencyStore, StoredResponse } from '../../app/ports/store.js';
import { IDEMPOTENCY_COLUMNS, idempotencyReader } from '../rows/idempotency.js';
import { sqliteColumns } from './columns.js';
import { WriteGuard } from './write-guard.js';

const toRecord = idempotencyReader(sqliteColumns);

/** Idempotency keys of webhook requests: the `idempotency_keys` table. */
export class SqliteIdempotencyStore implements IdempotencyStore {
  private readonly purgeExpired: Database.Statement<[string]>;
  private readonly insertPending: Database.Statement<[string, string, string, string]>;
  private readonly storeResponse: Database.Statement<[number, string, string]>;
  private readonly holdResponse: Database.Statement<[number, string, string]>;
  private readonly deletePending: Database.Statement<[string]>;
  private readonly byKey: Database.Statement<[string]>;
  private readonly claimTx: { immediate(key: string, requestHash: string, at: string, expiresAt: string): IdempotencyRecord | undefined };

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.purgeExpired = db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?');
    this.insertPending = db.prepare(
      `INSERT INTO idempotency_keys (key, request_hash, state, created_at, expires_at) VALUES (?, ?, 'pending', ?, ?)
       ON CONFLICT (key) DO NOTHING`,
    );
    this.storeResponse = db.prepare(`UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ? WHERE key = ?`);
    this.holdResponse = db.prepare(`UPDATE idempotency_keys SET response_status = ?, response_body = ? WHERE key = ? AND state = 'pending'`);
    this.deletePending = db.prepare(`DELETE FROM idempotency_keys WHERE key = ? AND state = 'pending'`);
    this.byKey = db.prepare(`SELECT ${IDEMPOTENCY_COLUMNS} FROM idempotency_keys WHERE key = ?`);
    this.claimTx = db.transaction((key: string, requestHash: string, at: string, expiresAt: string): IdempotencyRecord | undefined => {
      this.purgeExpired.run(at);
      const inserted = this.insertPending.run(key, requestHash, at, expiresAt);
      return inserted.changes === 1 ? undefined : this.read(key);
    });
  }

  async claim(key: string, requestHash: string, at: string, expiresAt: string): Promise<IdempotencyRecord | undefined> {
    // IMMEDIATE: the write lock is taken before the purge, so two processes cannot both own a key.
    return this.guard.run('claim an idempotency key', () => this.claimTx.immediate(key, requestHash, at, expiresAt));
  }

  async complete(key: string, response: StoredResponse): Promise<void> {
    await this.guard.changes('complete an idempotency key', () => this.completeNow(key, response));
  }

  async hold(key: string, response: StoredResponse): Promise<void> {
    await this.guard.changes('hold an idempotency key', () => this.holdResponse.run(response.status, JSON.stringify(response.body ?? null), key).changes);
  }

  async release(key: string): Promise<void> {
    await this.guard.changes('release an idempotency key', () => this.releaseNow(key));
  }

  /** `complete` inside the caller's transaction (the case store's, completing a case); returns the rows changed. */
  completeNow(key: string, response: StoredResponse): number {
    return this.storeResponse.run(response.status, JSON.stringify(response.body ?? null), key).changes;
  }

  /** `release` inside the caller's transaction; returns the rows changed. */
  releaseNow(key: string): number {
    return this.deletePending.run(key).changes;
  }

  async get(key: string): Promise<IdempotencyRecord | undefined> {
    return this.read(key);
  }

  private read(key: string): IdempotencyRecord | undefined {
    const row = this.byKey.get(key);
    return row === undefined ? undefined : toRecord(row);
  }
}
