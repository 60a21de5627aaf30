import { beforeAll, expect, it } from 'vitest';
import { openStore } from '../../src/store/open-store.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { MIGRATIONS } from '../../src/store/postgres/schema.js';
import { adminConnection, describePostgres, openTestStore, postgresAvailability, testSchemaName, testUrl } from '../support/postgres.js';
import { binding, newCase, participant, runStoreContract } from './contract/index.js';

const availability = await postgresAvailability();

describePostgres('PostgresStore', availability, () => {
  const admin = adminConnection();
  // One schema for the contract run, migrated once; each test starts from empty tables.
  const schema = admin.dropAfterwards(testSchemaName());
  beforeAll(async () => {
    await (await openTestStore(schema)).close();
  });

  runStoreContract('PostgresStore', async () => {
    await admin.client().query(`TRUNCATE "${schema}".bindings, "${schema}".roster, "${schema}".cases, "${schema}".idempotency_keys, "${schema}".moderators, "${schema}".bans, "${schema}".ban_identities, "${schema}".modlog_channels, "${schema}".case_reason_edits, "${schema}".call_states, "${schema}".lockdowns RESTART IDENTITY`);
    return openTestStore(schema);
  });

  it('is what openStore gives for postgres:// and postgresql:// URLs', async () => {
    for (const url of [testUrl({ schema }), testUrl({ schema }).replace(/^postgres:/, 'postgresql:')]) {
      const store = await openStore(url, '/nowhere');
      try {
        expect(store).toBeInstanceOf(PostgresStore);
        await store.bindings.save(binding({ conversationId: `19:${url.slice(0, 10)}@thread.v2` }));
        expect(await store.bindings.get(`19:${url.slice(0, 10)}@thread.v2`)).toBeDefined();
      } finally {
        await store.close();
      }
    }
  });

  it('keeps cases, bindings and rosters across close and reopen, without re-applying migrations', async () => {
    const own = admin.dropAfterwards(testSchemaName());
    const first = await openTestStore(own);
    const caseId = await first.cases.open(newCase(), { outcome: 'removed', participantIds: ['p1'] }, '2026-11-22T10:00:01.000Z');
    await first.bindings.save(binding());
    await first.roster.upsert('call-1', [participant('p1')]);
    await first.close();

    const second = await openTestStore(own);
    try {
      expect(await second.cases.get(caseId)).toMatchObject({ status: 'completed', outcome: 'removed', participantIds: ['p1'] });
      expect(await second.bindings.get(binding().conversationId)).toEqual(binding());
      expect(await second.roster.list('call-1')).toEqual([participant('p1')]);
      expect(await second.cases.open(newCase({ requestId: 'after-reopen' }))).toBeGreaterThan(caseId);
    } finally {
      await second.close();
    }
    const { rows } = await admin.client().query(`SELECT version FROM "${own}".schema_migrations ORDER BY version`);
    expect(rows).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1 })));
  });

  it('creates its tables in the schema the URL names, and nowhere else', async () => {
    const own = admin.dropAfterwards(testSchemaName());
    await (await openTestStore(own)).close();

    const { rows } = await admin.client().query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
      [own],
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'ban_identities',
      'bans',
      'bindings',
      'call_states',
      'case_reason_edits',
      'cases',
      'idempotency_keys',
      'lockdowns',
      'moderators',
      'modlog_channels',
      'roster',
      'schema_migrations',
    ]);
  });

  it('closing twice is harmless', async () => {
    const store = await openTestStore(schema);
    await store.close();
    await expect(store.close()).resolves.toBeUndefined();
  });

  it('ping fails with STORE_FAILED once the store is closed', async () => {
    const store = await openTestStore(schema);
    await store.close();
    await expect(store.ping()).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });
});
