import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BouncerError } from '../../src/app/domain/errors.js';
import { openStore } from '../../src/store/open-store.js';
import { migrationLockKey } from '../../src/store/postgres/migrate.js';
import type { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS } from '../../src/store/postgres/schema.js';
import { freePort } from '../support/ports.js';
import { adminConnection, describePostgres, openTestStore, postgresAvailability, testSchemaName } from '../support/postgres.js';
import { binding, newCase, participant } from './contract/index.js';

/**
 * What only a server shared by several instances shows: each PostgresStore is one instance (its
 * own pool), and they meet in one schema.
 */
const availability = await postgresAvailability();

/** Settles `promise` and reports how, with how long it took. */
async function settle(promise: Promise<unknown>): Promise<{ error?: unknown; ms: number }> {
  const started = Date.now();
  try {
    await promise;
    return { ms: Date.now() - started };
  } catch (error) {
    return { error, ms: Date.now() - started };
  }
}

describePostgres('PostgresStore, several instances on one server', availability, () => {
  const admin = adminConnection();
  const opened: PostgresStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });
  async function instance(schema: string, options: Record<string, string | number> = {}): Promise<PostgresStore> {
    const store = await openTestStore(schema, options);
    opened.push(store);
    return store;
  }
  async function versions(schema: string): Promise<number[]> {
    const { rows } = await admin.client().query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`);
    return rows.map((r) => r.version);
  }
  const everyVersion = MIGRATIONS.map((_, i) => i + 1);

  describe('migrations', () => {
    it('run once: opening the same schema again applies nothing', async () => {
      const schema = admin.dropAfterwards(testSchemaName());
      await instance(schema);
      const { rows: before } = await admin.client().query(`SELECT version, applied_at FROM "${schema}".schema_migrations`);
      await instance(schema);

      const { rows: after } = await admin.client().query(`SELECT version, applied_at FROM "${schema}".schema_migrations`);
      expect(after).toEqual(before);
      expect(await versions(schema)).toEqual(everyVersion);
    });

    it('run once when several instances start together on a new schema', async () => {
      const schema = admin.dropAfterwards(testSchemaName());

      const stores = await Promise.all(Array.from({ length: 6 }, () => instance(schema)));

      expect(await versions(schema)).toEqual(everyVersion);
      for (const store of stores) await expect(store.ping()).resolves.toBeUndefined();
    });

    it('wait for the advisory lock another instance holds', async () => {
      const schema = admin.dropAfterwards(testSchemaName());
      await admin.client().query('SELECT pg_advisory_lock($1::bigint)', [migrationLockKey(schema)]);
      let opening: Promise<PostgresStore> | undefined;
      try {
        let settled = false;
        opening = instance(schema).finally(() => {
          settled = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 500));
        expect(settled).toBe(false);
        const { rows } = await admin.client().query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
        expect(rows).toEqual([]);
      } finally {
        await admin.client().query('SELECT pg_advisory_unlock($1::bigint)', [migrationLockKey(schema)]);
      }
      await opening;
      expect(await versions(schema)).toEqual(everyVersion);
    });

    it('use one lock per schema', () => {
      expect(migrationLockKey('a')).toBe(migrationLockKey('a'));
      expect(migrationLockKey('a')).not.toBe(migrationLockKey('b'));
      expect(BigInt(migrationLockKey('a'))).toBeGreaterThanOrEqual(-(2n ** 63n));
      expect(BigInt(migrationLockKey('a'))).toBeLessThan(2n ** 63n);
    });
  });

  it('two instances claiming the same idempotency key at once: exactly one owns it', async () => {
    const schema = admin.dropAfterwards(testSchemaName());
    const [a, b] = [await instance(schema), await instance(schema)];

    for (let round = 0; round < 30; round++) {
      const key = `msg_${round}`;
      const claims = await Promise.all([
        a.idempotency.claim(key, 'hash-a', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z'),
        b.idempotency.claim(key, 'hash-b', '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z'),
      ]);

      const winners = claims.filter((c) => c === undefined);
      expect(winners, `round ${round}`).toHaveLength(1);
      const loser = claims.find((c) => c !== undefined);
      const stored = await a.idempotency.get(key);
      // The loser sees the winner's record.
      expect(loser).toEqual(stored);
      expect(stored?.requestHash).toBe(claims[0] === undefined ? 'hash-a' : 'hash-b');
    }
  });

  it('many claims of one key from several instances, purging expired keys as they go: exactly one owns it', async () => {
    const schema = admin.dropAfterwards(testSchemaName());
    const stores = await Promise.all(Array.from({ length: 4 }, () => instance(schema, { max: 4 })));
    // Expired keys for every claim's purge to race over.
    for (let i = 0; i < 50; i++) await stores[0]!.idempotency.claim(`old_${i}`, 'h', '2026-11-20T10:00:00.000Z', '2026-11-21T10:00:00.000Z');

    const claims = await Promise.all(
      stores.flatMap((store, i) =>
        Array.from({ length: 5 }, (_, j) => store.idempotency.claim('the-key', `hash-${i}-${j}`, '2026-11-22T10:00:00.000Z', '2026-11-23T10:00:00.000Z')),
      ),
    );

    expect(claims.filter((c) => c === undefined)).toHaveLength(1);
    const { rows } = await admin.client().query(`SELECT count(*)::int AS n FROM "${schema}".idempotency_keys`);
    expect(rows).toEqual([{ n: 1 }]);
  });

  it('case numbers from two instances are unique and increasing per instance', async () => {
    const schema = admin.dropAfterwards(testSchemaName());
    const [a, b] = [await instance(schema), await instance(schema)];

    const opens = (store: PostgresStore, who: string) =>
      Promise.all(Array.from({ length: 40 }, (_, i) => store.cases.open(newCase({ requestId: `${who}-${i}` }))));
    const [fromA, fromB] = await Promise.all([opens(a, 'a'), opens(b, 'b')]);

    const all = [...fromA, ...fromB];
    expect(new Set(all).size).toBe(80);
    // Each instance reads the other's cases under the numbers it was given.
    expect((await a.cases.get(fromB[7]!))?.requestId).toBe('b-7');
    expect((await b.cases.get(fromA[3]!))?.requestId).toBe('a-3');
    const later = await a.cases.open(newCase({ requestId: 'later' }));
    expect(later).toBeGreaterThan(Math.max(...all));
  });

  describe('deadlines', () => {
    it('a statement that waits on a lock longer than statement_timeout fails as STORE_BUSY', async () => {
      const schema = admin.dropAfterwards(testSchemaName());
      const store = await instance(schema, { statement_timeout: 300 });
      await admin.client().query('BEGIN');
      try {
        await admin.client().query(`LOCK TABLE "${schema}".cases IN ACCESS EXCLUSIVE MODE`);
        const { error, ms } = await settle(store.cases.open(newCase()));

        expect(error).toMatchObject({ code: 'STORE_BUSY' });
        expect(ms).toBeLessThan(2_000);
      } finally {
        await admin.client().query('ROLLBACK');
      }
      // Nothing was held: the store works again.
      expect(await store.cases.open(newCase())).toBeGreaterThan(0);
    });

    it('waiting for a free connection has a deadline too (connect_timeout): STORE_BUSY', async () => {
      const schema = admin.dropAfterwards(testSchemaName());
      const store = await instance(schema, { max: 1, connect_timeout: 1, statement_timeout: 4_000 });
      await admin.client().query('BEGIN');
      try {
        await admin.client().query(`LOCK TABLE "${schema}".cases IN ACCESS EXCLUSIVE MODE`);
        // The one connection waits on the lock; the next read has no connection to run on.
        const blocked = settle(store.cases.open(newCase()));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { error, ms } = await settle(store.bindings.get('19:x@thread.v2'));

        expect(error).toMatchObject({ code: 'STORE_BUSY' });
        expect(ms).toBeGreaterThanOrEqual(900);
        expect(ms).toBeLessThan(2_500);
        await admin.client().query('ROLLBACK');
        expect((await blocked).error).toBeUndefined();
      } finally {
        await admin.client().query('ROLLBACK');
      }
    });
  });

  it('survives the server closing its connections: the next statement reconnects', async () => {
    const schema = admin.dropAfterwards(testSchemaName());
    const store = await instance(schema, { application_name: schema });
    await store.ping();

    const { rows } = await admin.client().query<{ ended: boolean }>(
      'SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity WHERE application_name = $1',
      [schema],
    );
    expect(rows.length).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 200));

    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.cases.open(newCase())).toBeGreaterThan(0);
  });

  it('a connection lost inside a transaction: STORE_FAILED, nothing written, and the next statement gets a sound connection', async () => {
    const schema = admin.dropAfterwards(testSchemaName());
    const store = await instance(schema, { application_name: schema, max: 1 });
    await store.bindings.save(binding());
    await store.roster.upsert('call-1', [participant('p1')]);
    // The roster delete of a terminated call stalls, so that the connection can be cut mid-transaction.
    await admin.client().query(`CREATE FUNCTION "${schema}".stall() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN OLD; END $$;
      CREATE TRIGGER stall BEFORE DELETE ON "${schema}".roster FOR EACH ROW EXECUTE FUNCTION "${schema}".stall();`);

    const ending = settle(store.bindings.setCallState('call-1', 'terminated', '2026-11-22T12:00:00.000Z'));
    await new Promise((resolve) => setTimeout(resolve, 300));
    await admin.client().query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [schema]);
    const { error, ms } = await ending;

    expect(error).toMatchObject({ code: 'STORE_FAILED' });
    expect(ms).toBeLessThan(2_000);
    await admin.client().query(`DROP TRIGGER stall ON "${schema}".roster`);
    expect(await store.bindings.get(binding().conversationId)).toEqual(binding());
    expect(await store.roster.list('call-1')).toEqual([participant('p1')]);
    await expect(store.ping()).resolves.toBeUndefined();
  });
});

describe('PostgresStore, a server that cannot be reached', () => {
  it('fails to open fast with STORE_FAILED naming the server, not the password (a closed port)', async () => {
    const port = await freePort();
    const { error, ms } = await settle(openStore(`postgres://bouncer:s3cret@127.0.0.1:${port}/bouncer`, '/nowhere'));

    expect(error).toBeInstanceOf(BouncerError);
    expect(error).toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining(`127.0.0.1:${port}/bouncer`) });
    expect((error as BouncerError).message).toContain('ECONNREFUSED');
    expect((error as BouncerError).message).not.toContain('s3cret');
    expect((error as BouncerError).cause).toBeDefined();
    expect(ms).toBeLessThan(2_000);
  });

  it('gives up on a server that accepts but never answers after connect_timeout', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const { error, ms } = await settle(openStore(`postgres://bouncer@127.0.0.1:${port}/bouncer?connect_timeout=1`, '/nowhere'));

      expect(error).toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining(`127.0.0.1:${port}/bouncer`) });
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
