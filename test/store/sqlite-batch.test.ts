import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BATCH_WRITES, type WriteBatch } from '../../src/store/sqlite/write-batch.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newCase } from './contract/index.js';

/** The store's connection and batch, which these tests look into. */
const inside = (store: SqliteStore) => store as unknown as { db: Database.Database; batch: WriteBatch };

/** Cases another connection (a CLI reading the file) sees: committed ones only. */
function casesSeenFromOutside(file: string): number {
  const other = new Database(file, { readonly: true });
  try {
    return (other.prepare('SELECT COUNT(*) AS n FROM cases').get() as { n: number }).n;
  } finally {
    other.close();
  }
}

/**
 * Triggers that make a case opened with reason 'abort' fail alone (RAISE(ABORT): the statement is
 * undone, the transaction goes on) and one opened with 'rollback' roll back the whole transaction,
 * as SQLite itself does on a full disk or an I/O error.
 */
function addFailingTriggers(store: SqliteStore): void {
  inside(store).db.exec(`
    CREATE TEMP TRIGGER fail_alone BEFORE INSERT ON cases WHEN NEW.reason = 'abort'
      BEGIN SELECT RAISE(ABORT, 'this write fails alone'); END;
    CREATE TEMP TRIGGER lose_batch BEFORE INSERT ON cases WHEN NEW.reason = 'rollback'
      BEGIN SELECT RAISE(ROLLBACK, 'the whole transaction is rolled back'); END;`);
}

describe('SqliteStore: the writes of one turn share one transaction', () => {
  let dir: string;
  let file: string;
  let syncs: number;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-batch-'));
    file = path.join(dir, 'bouncer.sqlite');
    syncs = 0;
    store = SqliteStore.open(file, { sync: async () => void syncs++ });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the writes of one turn with one COMMIT; until then only this connection sees them', async () => {
    const { db, batch } = inside(store);
    const before = batch.commits;
    const opened = Array.from({ length: 20 }, (_, i) => store.cases.open(newCase({ requestId: `r-${i}` })));
    expect(db.inTransaction).toBe(true);
    expect(casesSeenFromOutside(file)).toBe(0);
    expect((await store.cases.list({ limit: 50 })).length).toBe(20); // the same connection reads its batch
    const ids = await Promise.all(opened);
    expect(new Set(ids).size).toBe(20);
    expect(batch.commits - before).toBe(1);
    expect(db.inTransaction).toBe(false); // the write lock is not held past the turn
    expect(casesSeenFromOutside(file)).toBe(20);
  });

  it('a kick-shaped sequence of awaited writes from many requests at once takes one COMMIT per step, not one per write', async () => {
    const { batch } = inside(store);
    const before = batch.commits;
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const key = `key-${i}`;
        await store.idempotency.claim(key, 'hash', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
        const id = await store.cases.open(newCase({ requestId: `r-${i}` }));
        await store.cases.close(id, { outcome: 'removed' }, '2026-11-22T10:00:01.000Z', { idempotency: { keys: [key], response: { status: 200, body: { id } } } });
      }),
    );
    expect(batch.commits - before).toBe(3);
    expect(casesSeenFromOutside(file)).toBe(10);
  });

  it('durable() syncs only what has committed, once, and a batch is committed before its writers go on to ask for it', async () => {
    await expect(store.durable()).resolves.toBeUndefined();
    expect(syncs).toBe(0);
    await Promise.all([store.cases.open(newCase()), store.cases.open(newCase())]);
    expect(casesSeenFromOutside(file)).toBe(2); // committed before the writers' promises resolved
    await Promise.all([store.durable(), store.durable()]);
    expect(syncs).toBe(1);
  });

  it('a write that changed nothing asks for no sync', async () => {
    await store.idempotency.release('no-such-key');
    await store.durable();
    expect(syncs).toBe(0);
  });

  it('a write that fails alone fails only its caller: the others in its batch are committed', async () => {
    addFailingTriggers(store);
    const { batch } = inside(store);
    const before = batch.commits;
    const [a, failing, b] = await Promise.allSettled([
      store.cases.open(newCase({ requestId: 'a' })),
      store.cases.open(newCase({ requestId: 'bad', reason: 'abort' })),
      store.cases.open(newCase({ requestId: 'b' })),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('fulfilled');
    expect(failing).toMatchObject({ status: 'rejected', reason: { code: 'STORE_FAILED' } });
    expect(batch.commits - before).toBe(1);
    expect(casesSeenFromOutside(file)).toBe(2);
    await expect(store.durable()).resolves.toBeUndefined();
    // Cases were opened after it (a and b committed): that kind of write works, as /healthz says.
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('a failure that rolls back the transaction fails every write of the batch, and /healthz reports it until a batch commits again', async () => {
    addFailingTriggers(store);
    const before = await Promise.allSettled([
      store.cases.open(newCase({ requestId: 'before' })),
      store.idempotency.claim('key-1', 'hash', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z'),
      store.cases.open(newCase({ requestId: 'lost', reason: 'rollback' })),
    ]);
    const after = store.cases.open(newCase({ requestId: 'after' })); // same turn, after the loss: a new batch
    expect(before.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of before) expect(r).toMatchObject({ reason: { code: 'STORE_FAILED' } });
    await expect(after).resolves.toBeGreaterThan(0);
    expect(await store.idempotency.get('key-1')).toBeUndefined();
    expect((await store.cases.list({ limit: 10 })).map((c) => c.requestId)).toEqual(['after']);
    expect(casesSeenFromOutside(file)).toBe(1);

    // The loss is reported, and cleared by the next batch that commits.
    const lost = store.cases.open(newCase({ requestId: 'lost again', reason: 'rollback' }));
    await expect(lost).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await store.cases.open(newCase({ requestId: 'fine' }));
    // A batch committed and cases open again, but the claim lost with the first batch has not succeeded since.
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await store.idempotency.claim('key-2', 'hash', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('a COMMIT that fails fails every write of its batch (STORE_FAILED), leaves nothing of it, and is reported by ping', async () => {
    const { db } = inside(store);
    const claim = store.idempotency.claim('key-1', 'hash', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
    const opened = store.cases.open(newCase());
    // A foreign key checked only at COMMIT, broken inside the open batch: SQLite refuses the COMMIT.
    db.pragma('defer_foreign_keys = ON');
    db.prepare(`INSERT INTO case_reason_edits (case_id, seq, previous, reason, edited_at, edited_by, edited_by_name, edit_case_id)
      VALUES (999999, 1, NULL, 'x', '2026-11-22T10:00:00.000Z', NULL, NULL, 999999)`).run();
    await expect(claim).rejects.toMatchObject({ code: 'STORE_FAILED' });
    await expect(opened).rejects.toMatchObject({ code: 'STORE_FAILED' });
    expect(db.inTransaction).toBe(false);
    expect(await store.idempotency.get('key-1')).toBeUndefined();
    expect(casesSeenFromOutside(file)).toBe(0);
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED' });
    // Nothing of the lost batch is synced for; the next batch commits and ping recovers.
    await store.durable();
    expect(syncs).toBe(0);
    await store.cases.open(newCase());
    await store.idempotency.claim('key-1', 'hash', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it('a write while another connection holds the write lock fails alone as STORE_BUSY, and opens no batch', async () => {
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    try {
      await expect(store.cases.open(newCase())).rejects.toMatchObject({ code: 'STORE_BUSY' });
      expect(inside(store).db.inTransaction).toBe(false);
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await expect(store.cases.open(newCase())).resolves.toBeGreaterThan(0);
  });

  it('a full batch commits at once', async () => {
    const { batch } = inside(store);
    const before = batch.commits;
    await Promise.all(Array.from({ length: MAX_BATCH_WRITES + 10 }, (_, i) => store.cases.open(newCase({ requestId: `r-${i}` }))));
    expect(batch.commits - before).toBe(2);
    expect(casesSeenFromOutside(file)).toBe(MAX_BATCH_WRITES + 10);
  });

  it('close() commits the open batch: its writers learn it was written, and the file has it', async () => {
    const opened = store.cases.open(newCase({ requestId: 'last' }));
    await store.close();
    await expect(opened).resolves.toBeGreaterThan(0);
    expect(casesSeenFromOutside(file)).toBe(1);
    store = SqliteStore.open(file); // for afterEach
  });
});

describe("SqliteStore ':memory:' batches too", () => {
  it('commits a turn of writes together and reads them back', async () => {
    const store = SqliteStore.open(':memory:');
    try {
      const { batch } = inside(store);
      const before = batch.commits;
      const ids = await Promise.all([store.cases.open(newCase()), store.cases.open(newCase())]);
      expect(batch.commits - before).toBe(1);
      for (const id of ids) expect(await store.cases.get(id)).toMatchObject({ status: 'pending' });
    } finally {
      await store.close();
    }
  });
});
