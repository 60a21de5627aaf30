import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BouncerError } from '../../src/app/domain/errors.js';
import { MIGRATIONS } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { binding, newCase, participant, runStoreContract } from './contract/index.js';

runStoreContract("SqliteStore ':memory:'", async () => SqliteStore.open(':memory:'));

// One folder for the file-backed contract run; each test gets its own fresh database file in it.
const contractDir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-store-contract-'));
let fileCounter = 0;
runStoreContract('SqliteStore file', async () => SqliteStore.open(path.join(contractDir, `store-${++fileCounter}.sqlite`)));
afterAll(() => {
  rmSync(contractDir, { recursive: true, force: true });
});

describe('SqliteStore on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-store-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates missing folders for the database file', async () => {
    const store = SqliteStore.open(path.join(dir, 'nested', 'deeper', 'bouncer.sqlite'));
    try {
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('uses WAL mode', async () => {
    const file = path.join(dir, 'bouncer.sqlite');
    const store = SqliteStore.open(file);
    try {
      const inspect = new Database(file, { readonly: true });
      expect(inspect.pragma('journal_mode', { simple: true })).toBe('wal');
      inspect.close();
    } finally {
      await store.close();
    }
  });

  it('commits without waiting for the disk (synchronous NORMAL) and syncs the WAL in groups when asked to be durable', async () => {
    const file = path.join(dir, 'bouncer.sqlite');
    const syncs: Array<{ release: () => void }> = [];
    const store = SqliteStore.open(file, {
      sync: () => new Promise<void>((resolve) => syncs.push({ release: resolve })),
    });
    try {
      // The connection's own setting: 1 is NORMAL (2, SQLite's default, syncs on every commit).
      expect((store as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true })).toBe(1);
      await expect(store.durable()).resolves.toBeUndefined(); // nothing written since it opened: no sync
      expect(syncs).toHaveLength(0);

      await store.cases.open(newCase());
      let firstDone = false;
      const first = store.durable().then(() => (firstDone = true));
      const sameWrite = store.durable();
      await vi.waitFor(() => expect(syncs).toHaveLength(1)); // both wait for one sync
      // A write while that sync runs needs another one, which starts only once the first is done.
      await store.cases.open(newCase());
      let laterDone = false;
      const later = Promise.all([store.durable(), store.durable()]).then(() => (laterDone = true));
      expect(syncs).toHaveLength(1);
      syncs[0]!.release();
      await Promise.all([first, sameWrite]);
      expect(firstDone).toBe(true);
      await vi.waitFor(() => expect(syncs).toHaveLength(2));
      expect(laterDone).toBe(false);
      syncs[1]!.release();
      await later;
      expect(syncs).toHaveLength(2);
    } finally {
      for (const s of syncs) s.release();
      await store.close();
    }
  });

  it('a WAL sync that fails is STORE_FAILED for good: every later durable() fails without syncing, and so does ping, until the file is reopened', async () => {
    const file = path.join(dir, 'bouncer.sqlite');
    let calls = 0;
    const store = SqliteStore.open(file, {
      sync: async () => {
        calls++;
        if (calls === 1) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      },
    });
    try {
      const id = await store.cases.open(newCase());
      await expect(store.durable()).rejects.toMatchObject({ code: 'STORE_FAILED' });
      // A second fdatasync could succeed although the pages were dropped: it is not tried.
      await expect(store.durable()).rejects.toMatchObject({ code: 'STORE_FAILED' });
      await store.cases.close(id, { outcome: 'removed' }, new Date().toISOString());
      await expect(store.durable()).rejects.toMatchObject({ code: 'STORE_FAILED' });
      expect(calls).toBe(1);
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('restart') });
    } finally {
      await store.close();
    }
    // Reopened (a restart): SQLite reads what the disk holds, and syncs work again.
    const reopened = SqliteStore.open(file);
    try {
      await reopened.cases.open(newCase());
      await expect(reopened.durable()).resolves.toBeUndefined();
      await expect(reopened.ping()).resolves.toBeUndefined();
    } finally {
      await reopened.close();
    }
  });

  it('a WAL file that could not be opened for its sync is tried again: nothing was lost by that', async () => {
    const file = path.join(dir, 'bouncer.sqlite');
    const store = SqliteStore.open(file, { sync: async (handle) => handle.datasync() });
    try {
      await store.cases.open(newCase());
      // The WAL is there (the open made it); moved away for a moment, the sync cannot open it.
      renameSync(`${file}-wal`, `${file}-wal.away`);
      await expect(store.durable()).rejects.toMatchObject({ code: 'STORE_FAILED' });
      renameSync(`${file}-wal.away`, `${file}-wal`);
      await expect(store.durable()).resolves.toBeUndefined();
      await expect(store.ping()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('syncs the real WAL file (fdatasync) by default', async () => {
    const store = SqliteStore.open(path.join(dir, 'bouncer.sqlite'));
    try {
      await store.cases.open(newCase());
      await expect(store.durable()).resolves.toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('keeps cases, bindings and rosters across close and reopen, without re-applying migrations', async () => {
    const file = path.join(dir, 'bouncer.sqlite');
    const first = SqliteStore.open(file);
    const caseId = await first.cases.open(newCase(), { outcome: 'removed', participantIds: ['p1'] }, '2026-11-22T10:00:01.000Z');
    await first.bindings.save(binding());
    await first.roster.upsert('call-1', [participant('p1')]);
    await first.close();

    const inspect = new Database(file, { readonly: true });
    const version = inspect.pragma('user_version', { simple: true });
    inspect.close();
    expect(version).toBe(MIGRATIONS.length);

    // Re-running the first migration would fail on CREATE TABLE; reopening must not.
    const second = SqliteStore.open(file);
    try {
      expect(await second.cases.get(caseId)).toMatchObject({ status: 'completed', outcome: 'removed', participantIds: ['p1'] });
      expect(await second.bindings.get(binding().conversationId)).toEqual(binding());
      expect(await second.roster.list('call-1')).toEqual([participant('p1')]);
      expect(await second.cases.open(newCase({ requestId: 'after-reopen' }))).toBeGreaterThan(caseId);
    } finally {
      await second.close();
    }
  });

  it('closing twice is harmless', async () => {
    const store = SqliteStore.open(path.join(dir, 'bouncer.sqlite'));
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('fails to open with STORE_FAILED, keeping the cause, when the path cannot be a database', () => {
    const notAFolder = path.join(dir, 'plain-file');
    writeFileSync(notAFolder, 'not a folder');

    let thrown: unknown;
    try {
      SqliteStore.open(path.join(notAFolder, 'bouncer.sqlite'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(BouncerError);
    expect((thrown as BouncerError).code).toBe('STORE_FAILED');
    expect((thrown as BouncerError).cause).toBeDefined();
  });

  it('fails to open with STORE_FAILED when the file is not a SQLite database', () => {
    const file = path.join(dir, 'garbage.sqlite');
    writeFileSync(file, 'this is not a database file, and it is long enough to have a header '.repeat(20));

    expect(() => SqliteStore.open(file)).toThrow(expect.objectContaining({ code: 'STORE_FAILED', cause: expect.anything() }));
  });
});
