import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { BouncerError } from '../../src/app/domain/errors.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { binding, newCase, participant } from './contract/index.js';

/**
 * What the contract cannot reach from outside: writes of several statements are one transaction
 * (a failure part-way, made with a trigger, changes nothing), and rows the store did not write in
 * its own shape are refused with STORE_FAILED.
 */
let dir: string;
let store: SqliteStore;
/** A second connection to the same file, for what the store would never write. */
let raw: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-integrity-'));
  const file = path.join(dir, 'bouncer.sqlite');
  store = SqliteStore.open(file);
  raw = new Database(file);
});
afterEach(async () => {
  raw.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Expects `promise` to reject with STORE_FAILED whose cause is a ZodError. */
async function expectCorrupt(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BouncerError);
  expect((err as BouncerError).code).toBe('STORE_FAILED');
  expect((err as BouncerError).cause).toBeInstanceOf(ZodError);
}

describe('atomic writes', () => {
  it("setCallState 'terminated' updates the binding and drops the roster together, or neither", async () => {
    await store.bindings.save(binding());
    await store.roster.upsert('call-1', [participant('p1'), participant('p2')]);
    raw.exec(`CREATE TRIGGER fail_roster_delete BEFORE DELETE ON roster BEGIN SELECT RAISE(ABORT, 'roster delete fails'); END`);

    await expect(store.bindings.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z')).rejects.toThrow('roster delete fails');
    expect(await store.bindings.get(binding().conversationId)).toEqual(binding());
    expect(await store.roster.list('call-1')).toEqual([participant('p1'), participant('p2')]);

    raw.exec('DROP TRIGGER fail_roster_delete');
    await store.bindings.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z');
    expect(await store.bindings.get(binding().conversationId)).toEqual(
      binding({ state: 'terminated', updatedAt: '2026-11-22T12:00:00.000Z' }),
    );
    expect(await store.roster.list('call-1')).toEqual([]);
  });

  it('replace deletes and inserts in one transaction: a failing insert leaves the old roster', async () => {
    await store.roster.upsert('call-1', [participant('p1'), participant('p2')]);
    raw.exec(
      `CREATE TRIGGER fail_p4 BEFORE INSERT ON roster WHEN NEW.participant_id = 'p4' BEGIN SELECT RAISE(ABORT, 'p4 insert fails'); END`,
    );

    await expect(store.roster.replace('call-1', [participant('p3'), participant('p4')])).rejects.toThrow('p4 insert fails');
    expect(await store.roster.list('call-1')).toEqual([participant('p1'), participant('p2')]);
  });

  it('a large sync that fails part-way loses nobody: the slices written stay, nobody is removed, and the next sync runs', async () => {
    await store.roster.upsert('call-1', [participant('old-1'), participant('old-2')]);
    const list = Array.from({ length: 1_200 }, (_, i) => participant(`n${String(i).padStart(4, '0')}`));
    // The slice holding n0700 fails, after the 500 before it were written.
    raw.exec(`CREATE TRIGGER fail_n0700 BEFORE INSERT ON roster WHEN NEW.participant_id = 'n0700' BEGIN SELECT RAISE(ABORT, 'n0700 insert fails'); END`);

    await expect(store.roster.sync('call-1', list)).rejects.toThrow('n0700 insert fails');
    const after = (await store.roster.list('call-1')).map((p) => p.participantId);
    expect(after).toEqual(expect.arrayContaining(['old-1', 'old-2', 'n0000', 'n0499']));
    expect(after).toHaveLength(2 + 500);

    raw.exec('DROP TRIGGER fail_n0700');
    await store.roster.sync('call-1', list);
    expect(await store.roster.count('call-1')).toBe(1_200);
  });

  it('remove of several participants is one transaction', async () => {
    await store.roster.upsert('call-1', [participant('p1'), participant('p2')]);
    raw.exec(
      `CREATE TRIGGER fail_p2 BEFORE DELETE ON roster WHEN OLD.participant_id = 'p2' BEGIN SELECT RAISE(ABORT, 'p2 delete fails'); END`,
    );

    await expect(store.roster.remove('call-1', ['p1', 'p2'])).rejects.toThrow('p2 delete fails');
    expect(await store.roster.list('call-1')).toEqual([participant('p1'), participant('p2')]);
  });

  it('a failing claim does not purge the expired keys', async () => {
    await store.idempotency.claim('old', 'h', '2026-11-22T10:00:00.000Z', '2026-11-22T11:00:00.000Z');
    raw.exec(`CREATE TRIGGER fail_claim BEFORE INSERT ON idempotency_keys BEGIN SELECT RAISE(ABORT, 'claim fails'); END`);

    await expect(store.idempotency.claim('new', 'h', '2026-11-22T12:00:00.000Z', '2026-11-23T12:00:00.000Z')).rejects.toThrow('claim fails');
    expect((await store.idempotency.get('old'))?.state).toBe('pending');
  });
});

describe('rows that do not parse', () => {
  it('a binding with an unknown call state', async () => {
    await store.bindings.save(binding());
    raw.prepare(`UPDATE bindings SET state = 'weird'`).run();

    await expectCorrupt(store.bindings.get(binding().conversationId));
    await expectCorrupt(store.bindings.findByCallId('call-1'));
    await expectCorrupt(store.bindings.setCallState('call-1', 'established', '2026-11-22T12:00:00.000Z'));
    // The failed setCallState changed nothing.
    expect(raw.prepare('SELECT state, updated_at FROM bindings').get()).toEqual({ state: 'weird', updated_at: binding().updatedAt });
  });

  it('a binding with a blob where text belongs', async () => {
    await store.bindings.save(binding());
    raw.prepare(`UPDATE bindings SET join_url = x'01'`).run();

    await expectCorrupt(store.bindings.get(binding().conversationId));
  });

  it.each([
    ['an unknown kind', `kind = 'robot'`],
    ['phone numbers that are not JSON', `phone_numbers = '[oops'`],
    ['phone numbers that are not a list of strings', `phone_numbers = '[1, 2]'`],
    ['a lobby flag that is not 0 or 1', `is_in_lobby = 2`],
  ])('a roster row with %s', async (_what, assignment) => {
    await store.roster.upsert('call-1', [participant('p1')]);
    raw.prepare(`UPDATE roster SET ${assignment}`).run();

    await expectCorrupt(store.roster.list('call-1'));
  });

  it.each([
    ['an unknown source', `source = 'carrier-pigeon'`],
    ['an unknown action', `action = 'smite'`],
    ['an unknown outcome', `outcome = 'vanished'`],
    ['participant ids that are not JSON', `participant_ids = 'p1,p2'`],
    ['a detail that is not a JSON object', `detail = '[1]'`],
    ['a detail that is not JSON', `detail = '{'`],
  ])('a case with %s', async (_what, assignment) => {
    const id = await store.cases.open(newCase());
    raw.prepare(`UPDATE cases SET ${assignment}`).run();

    await expectCorrupt(store.cases.get(id));
    await expectCorrupt(store.cases.list({ limit: 10 }));
  });

  it('an idempotency key whose stored response body is not JSON', async () => {
    await store.idempotency.claim('k', 'h', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
    await store.idempotency.complete('k', { status: 200, body: { ok: true } });
    raw.prepare(`UPDATE idempotency_keys SET response_body = '{not json'`).run();

    await expectCorrupt(store.idempotency.get('k'));
    await expectCorrupt(store.idempotency.claim('k', 'h', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z'));
  });
});
