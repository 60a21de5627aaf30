import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import type { Participant } from '../../src/app/domain/participant.js';
import { BouncerError } from '../../src/app/domain/errors.js';
import type { Store } from '../../src/app/ports/store.js';
import type { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { collapseParticipants } from '../../src/store/postgres/roster.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { adminConnection, describePostgres, openTestStore, postgresAvailability, testSchemaName } from '../support/postgres.js';
import { binding, newCase, participant } from './contract/index.js';

/**
 * What the contract cannot reach from outside, as sqlite-integrity.test.ts checks it for SQLite:
 * writes of several statements are one transaction (a failure part-way, made with a trigger,
 * changes nothing), rows the store did not write in its own shape are refused with STORE_FAILED,
 * a failing kind of write fails the ping until it succeeds again, and where SQLite and PostgreSQL
 * could differ (order of text, JSON merging, NUL characters) they do not.
 */
const availability = await postgresAvailability();

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

describePostgres('PostgresStore integrity', availability, () => {
  const admin = adminConnection();
  let schema: string;
  let store: PostgresStore;
  /** Runs SQL as the test (not the store), with `$S` standing for the store's schema. */
  const raw = async (sql: string, params: unknown[] = []) => (await admin.client().query(sql.replaceAll('$S', `"${schema}"`), params)).rows;
  /** A trigger on `table` that raises `message` (BEFORE `event`, for rows matching `when`). */
  const failing = (table: string, event: 'INSERT' | 'DELETE' | 'UPDATE', message: string, when = 'true') =>
    raw(`CREATE FUNCTION $S.fail_${table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${message}'; END $$;
         CREATE TRIGGER fail_${table} BEFORE ${event} ON $S.${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION $S.fail_${table}();`);
  const unfail = (table: string) => raw(`DROP TRIGGER fail_${table} ON $S.${table}; DROP FUNCTION $S.fail_${table}();`);

  beforeEach(async () => {
    schema = admin.dropAfterwards(testSchemaName());
    store = await openTestStore(schema);
  });
  afterEach(async () => {
    await store.close();
  });

  describe('atomic writes', () => {
    it("setCallState 'terminated' updates the binding and drops the roster together, or neither", async () => {
      await store.bindings.save(binding());
      await store.roster.upsert('call-1', [participant('p1'), participant('p2')]);
      await failing('roster', 'DELETE', 'roster delete fails');

      await expect(store.bindings.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z')).rejects.toThrow('roster delete fails');
      expect(await store.bindings.get(binding().conversationId)).toEqual(binding());
      expect(await store.roster.list('call-1')).toEqual([participant('p1'), participant('p2')]);

      await unfail('roster');
      await store.bindings.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z');
      expect(await store.bindings.get(binding().conversationId)).toEqual(binding({ state: 'terminated', updatedAt: '2026-11-22T12:00:00.000Z' }));
      expect(await store.roster.list('call-1')).toEqual([]);
    });

    it('replace deletes and inserts in one transaction: a failing insert leaves the old roster', async () => {
      await store.roster.upsert('call-1', [participant('p1'), participant('p2')]);
      await failing('roster', 'INSERT', 'p4 insert fails', `NEW.participant_id = 'p4'`);

      await expect(store.roster.replace('call-1', [participant('p3'), participant('p4')])).rejects.toThrow('p4 insert fails');
      expect(await store.roster.list('call-1')).toEqual([participant('p1'), participant('p2')]);
    });

    it('remove of several participants is all or none', async () => {
      await store.roster.upsert('call-1', [participant('p1'), participant('p2')]);
      await failing('roster', 'DELETE', 'p2 delete fails', `OLD.participant_id = 'p2'`);

      await expect(store.roster.remove('call-1', ['p1', 'p2'])).rejects.toThrow('p2 delete fails');
      expect(await store.roster.list('call-1')).toEqual([participant('p1'), participant('p2')]);
    });

    it('upsert of several participants is all or none', async () => {
      await store.roster.upsert('call-1', [participant('p1')]);
      await failing('roster', 'INSERT', 'p3 insert fails', `NEW.participant_id = 'p3'`);

      await expect(store.roster.upsert('call-1', [participant('p1', { displayName: 'Renamed' }), participant('p2'), participant('p3')])).rejects.toThrow(
        'p3 insert fails',
      );
      expect(await store.roster.list('call-1')).toEqual([participant('p1')]);
    });

    it('a failing claim does not purge the expired keys', async () => {
      await store.idempotency.claim('old', 'h', '2026-11-22T10:00:00.000Z', '2026-11-22T11:00:00.000Z');
      await failing('idempotency_keys', 'INSERT', 'claim fails');

      await expect(store.idempotency.claim('new', 'h', '2026-11-22T12:00:00.000Z', '2026-11-23T12:00:00.000Z')).rejects.toThrow('claim fails');
      expect((await store.idempotency.get('old'))?.state).toBe('pending');
    });
  });

  describe('failures', () => {
    it('are STORE_FAILED with the cause kept and no SQL in the message', async () => {
      await failing('cases', 'INSERT', 'no space left');

      const err = await store.cases.open(newCase()).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(BouncerError);
      expect(err).toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('no space left') });
      expect((err as BouncerError).cause).toBeDefined();
      expect((err as BouncerError).message).not.toMatch(/INSERT|SELECT|VALUES|\$1/);
    });

    it('a kind of write that failed fails the ping until it succeeds again', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
      await failing('cases', 'INSERT', 'disk full');
      await expect(store.cases.open(newCase())).rejects.toMatchObject({ code: 'STORE_FAILED' });

      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED', cause: expect.objectContaining({ message: expect.stringContaining('disk full') }) });
      // Other writes do not clear it.
      await store.bindings.save(binding());
      await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED' });

      await unfail('cases');
      await store.cases.open(newCase());
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('contention (a statement over its deadline) does not fail the ping', async () => {
      const busy = await openTestStore(schema, { statement_timeout: 200 });
      try {
        await admin.client().query('BEGIN');
        await raw('LOCK TABLE $S.cases IN ACCESS EXCLUSIVE MODE');
        await expect(busy.cases.open(newCase())).rejects.toMatchObject({ code: 'STORE_BUSY' });
        await admin.client().query('ROLLBACK');

        await expect(busy.ping()).resolves.toBeUndefined();
      } finally {
        await admin.client().query('ROLLBACK');
        await busy.close();
      }
    });
  });

  describe('rows that do not parse', () => {
    it('a binding with an unknown call state', async () => {
      await store.bindings.save(binding());
      await raw(`UPDATE $S.bindings SET state = 'weird'`);

      await expectCorrupt(store.bindings.get(binding().conversationId));
      await expectCorrupt(store.bindings.findByCallId('call-1'));
    });

    it('setCallState of a binding that does not parse changes nothing', async () => {
      await store.bindings.save(binding());
      await store.roster.upsert('call-1', [participant('p1')]);
      await raw(`ALTER TABLE $S.bindings ALTER COLUMN provider DROP NOT NULL; UPDATE $S.bindings SET provider = NULL`);

      await expectCorrupt(store.bindings.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z'));
      expect(await raw('SELECT state, updated_at FROM $S.bindings')).toEqual([{ state: 'establishing', updated_at: binding().updatedAt }]);
      expect(await raw('SELECT count(*)::int AS n FROM $S.roster')).toEqual([{ n: 1 }]);
    });

    it.each([
      ['an unknown kind', `kind = 'robot'`],
      ['phone numbers that are not a list of strings', `phone_numbers = '[1, 2]'`],
      ['phone numbers that are not a list', `phone_numbers = '{"a": "+1555"}'`],
    ])('a roster row with %s', async (_what, assignment) => {
      await store.roster.upsert('call-1', [participant('p1')]);
      await raw(`UPDATE $S.roster SET ${assignment}`);

      await expectCorrupt(store.roster.list('call-1'));
    });

    it.each([
      ['an unknown source', `source = 'carrier-pigeon'`],
      ['an unknown action', `action = 'smite'`],
      ['an unknown outcome', `outcome = 'vanished'`],
      ['participant ids that are not a list', `participant_ids = '"p1,p2"'`],
      ['participant ids that are not strings', `participant_ids = '[1]'`],
      ['a detail that is not a JSON object', `detail = '[1]'`],
    ])('a case with %s', async (_what, assignment) => {
      const id = await store.cases.open(newCase());
      await raw(`UPDATE $S.cases SET ${assignment}`);

      await expectCorrupt(store.cases.get(id));
      await expectCorrupt(store.cases.list({ limit: 10 }));
    });

    it('an idempotency key in an unknown state', async () => {
      await store.idempotency.claim('k', 'h', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
      await raw(`ALTER TABLE $S.idempotency_keys DROP CONSTRAINT idempotency_keys_state_check; UPDATE $S.idempotency_keys SET state = 'limbo'`);

      await expectCorrupt(store.idempotency.get('k'));
      await expectCorrupt(store.idempotency.claim('k', 'h', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z'));
    });
  });

  describe('the same answers as SQLite', () => {
    /** Runs `scenario` on a fresh SQLite store and on this PostgreSQL store; both answers must be equal. */
    async function expectSameAsSqlite<T>(scenario: (s: Store) => Promise<T>): Promise<T> {
      const sqlite = SqliteStore.open(':memory:');
      try {
        const expected = await scenario(sqlite);
        const got = await scenario(store);
        expect(got).toEqual(expected);
        return got;
      } finally {
        await sqlite.close();
      }
    }

    it('lists a roster in byte order of display names, nameless first, as SQLite does', async () => {
      const names = ['bob', 'Bob', 'Émile', 'alice', undefined, 'Zoë', '_x', '10', '9'];
      const order = await expectSameAsSqlite(async (s) => {
        await s.roster.upsert(
          'call-1',
          names.map((displayName, i) => participant(`p${i}`, { displayName })),
        );
        return (await s.roster.list('call-1')).map((p) => p.displayName ?? null);
      });
      expect(order).toEqual([null, '10', '9', 'Bob', 'Zoë', '_x', 'alice', 'bob', 'Émile']);
    });

    it('completes a case detail as a JSON merge patch (nested objects merge, null removes a key)', async () => {
      const detail = await expectSameAsSqlite(async (s) => {
        const id = await s.cases.open(newCase({ detail: { keep: 1, drop: 'x', nested: { a: 1, b: 2 }, list: [1, 2] } }));
        await s.cases.close(id, { outcome: 'removed', detail: { drop: null, nested: { b: 3, c: 4 }, list: [3], added: 'y' } }, '2026-11-22T10:00:03.000Z');
        return (await s.cases.get(id))?.detail;
      });
      expect(detail).toEqual({ keep: 1, nested: { a: 1, b: 3, c: 4 }, list: [3], added: 'y' });
    });

    it('applies one upsert that names a participant twice as two upserts in turn', async () => {
      const list = await expectSameAsSqlite(async (s) => {
        await s.roster.upsert('call-1', [
          participant('p1', { displayName: 'First', label: 'L1', phoneNumbers: ['+15550001'], isInLobby: true }),
          participant('p1', { displayName: undefined, label: undefined, phoneNumbers: [], isInLobby: false, kind: 'guest' }),
          participant('p2', { displayName: 'Two' }),
          participant('p2', { displayName: 'Two again', phoneNumbers: ['+15550002'] }),
        ]);
        return s.roster.list('call-1');
      });
      expect(list).toEqual([
        participant('p1', { displayName: 'First', label: 'L1', phoneNumbers: ['+15550001'], isInLobby: false, kind: 'guest' }),
        participant('p2', { displayName: 'Two again', phoneNumbers: ['+15550002'] }),
      ]);
    });

    it('round-trips stored responses, keeping the body as it was written', async () => {
      await expectSameAsSqlite(async (s) => {
        await s.idempotency.claim('k', 'h', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z');
        await s.idempotency.complete('k', { status: 200, body: { z: 1, a: [true, null, 'ü'], nested: { y: 2.5, b: 'x' } } });
        const body = (await s.idempotency.get('k'))?.response?.body;
        // Key order too: a replayed response is the same text.
        return JSON.stringify(body);
      });
    });
  });

  it('stores text with a NUL character (which PostgreSQL text cannot hold) as U+FFFD', async () => {
    const id = await store.cases.open(newCase({ reason: 'bad\u0000reason', detail: { note: 'nul\u0000here', literal: '\\u0000 stays' } }));
    await store.roster.upsert('call-1', [participant('p1', { displayName: 'Mal\u0000lory' })]);

    expect(await store.cases.get(id)).toMatchObject({ reason: 'bad\uFFFDreason', detail: { note: 'nul\uFFFDhere', literal: '\\u0000 stays' } });
    expect((await store.roster.list('call-1'))[0]?.displayName).toBe('Mal\uFFFDlory');
  });

  it("stores a lockdown's saved meeting options with a NUL as U+FFFD, as every other JSON it writes", async () => {
    const begun = await store.lockdowns.begin({
      provider: 'teams',
      callKey: 'call-nul',
      callId: 'call-nul',
      caseId: 1,
      source: 'chat',
      chat: false,
      mute: false,
      saved: { allowMeetingChat: 'en\u0000abled', literal: '\\u0000 stays' },
      startedAt: '2026-11-23T10:00:00.000Z',
    });
    expect(begun.started).toBe(true);
    expect((await store.lockdowns.find('teams', ['call-nul']))?.saved).toEqual({ allowMeetingChat: 'en\uFFFDabled', literal: '\\u0000 stays' });
  });
});

describe('collapseParticipants', () => {
  const p = (id: string, overrides: Partial<Participant> = {}) => participant(id, overrides);

  it('keeps a list without repeats as it is', () => {
    const list = [p('a'), p('b')];
    expect(collapseParticipants(list)).toEqual(list);
  });

  it('lets the later of two entries win, except for a missing name, label or phone numbers', () => {
    expect(
      collapseParticipants([
        p('a', { displayName: 'A', label: 'L', phoneNumbers: ['+1'], isInLobby: true }),
        p('a', { displayName: undefined, label: undefined, phoneNumbers: undefined, isInLobby: false }),
      ]),
    ).toEqual([p('a', { displayName: 'A', label: 'L', phoneNumbers: ['+1'], isInLobby: false })]);
  });
});
