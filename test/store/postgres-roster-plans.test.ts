import pg from 'pg';
import { beforeAll, expect, it } from 'vitest';
import { tablesOf } from '../../src/store/postgres/database.js';
import { migrate } from '../../src/store/postgres/migrate.js';
import { rosterStatements } from '../../src/store/postgres/roster.js';
import { MIGRATIONS } from '../../src/store/postgres/schema.js';
import { adminConnection, describePostgres, openTestStore, postgresAvailability, TEST_DATABASE_URL, testSchemaName } from '../support/postgres.js';
import { participant } from './contract/index.js';

const availability = await postgresAvailability();

/**
 * A kick's cost must not grow with the meeting: PostgreSQL's plan for each roster lookup over a
 * 20,000-participant call (statistics gathered) uses the lookup's own index, never a sequential
 * scan of the table.
 */
describePostgres('PostgreSQL roster lookups are index searches', availability, () => {
  const admin = adminConnection();
  const schema = admin.dropAfterwards(testSchemaName());
  const sql = rosterStatements(tablesOf(schema).roster);

  beforeAll(async () => {
    const store = await openTestStore(schema);
    try {
      await store.roster.sync(
        'big-call',
        Array.from({ length: 20_000 }, (_, i) =>
          participant(`p${i}`, { callId: 'big-call', displayName: `Person ${i}`, label: `label ${i}`, phoneNumbers: [`+1555${String(i).padStart(7, '0')}`] }),
        ),
      );
    } finally {
      await store.close();
    }
    await admin.client().query(`ANALYZE "${schema}".roster`);
  });

  async function plan(statement: string, params: unknown[]): Promise<string> {
    const { rows } = await admin.client().query<{ 'QUERY PLAN': string }>(`EXPLAIN ${statement}`, params);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  it.each([
    ['findByParticipantId', sql.byParticipantId, ['big-call', 'p17'], /Index (Only )?Scan using roster_pkey/],
    ['findByIdentity', sql.byIdentity, ['big-call', 'user-p17'], /(Index|Bitmap Index) Scan (using|on) roster_identity_key/],
    ['findByLabel', sql.byLabel, ['big-call', 'label 17', 'label 17'], /(Index|Bitmap Index) Scan (using|on) roster_label_key/],
    ['findByLabel (ignoreCase)', sql.byLabelKey, ['big-call', 'label 17'], /(Index|Bitmap Index) Scan (using|on) roster_label_key/],
    ['findByPhone', sql.byPhone, ['big-call', '["+15550000017"]'], /Bitmap Index Scan on roster_phone_numbers/],
    ['page', sql.page, ['big-call', ['application'], 25, 0], /Index Scan using roster_by_name/],
  ] as const)('%s', async (_name, statement, params, index) => {
    const text = await plan(statement, [...params]);
    expect(text).toMatch(index);
    expect(text).not.toMatch(/Seq Scan/);
  });

  it('the lookups answer the 20,000-participant call', async () => {
    const { rows } = await admin.client().query(sql.byPhone, ['big-call', '["+15550019999"]']);
    expect(rows).toMatchObject([{ participant_id: 'p19999' }]);
  });

  it('migration 3 makes the rosters an older Bouncer kept findable by identity, label and phone number', async () => {
    const old = admin.dropAfterwards(testSchemaName());
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      await migrate(client, old, MIGRATIONS.slice(0, 2));
      await client.query(
        `INSERT INTO "${old}".roster (call_id, participant_id, kind, identity_id, display_name, is_in_lobby, label, phone_numbers)
         VALUES ('call-1', 'p1', 'user', 'AAAA-Bbbb', 'Mallory', false, NULL, '[]'),
                ('call-1', 'CA1', 'phone', NULL, NULL, false, 'Guest 3', '["+15550000001"]')`,
      );
    } finally {
      await client.end();
    }
    const store = await openTestStore(old);
    try {
      expect((await store.roster.findByIdentity('call-1', 'aaaa-bbbb')).map((p) => p.participantId)).toEqual(['p1']);
      expect((await store.roster.findByLabel('call-1', 'guest 3', { ignoreCase: true })).map((p) => p.participantId)).toEqual(['CA1']);
      expect((await store.roster.findByPhone('call-1', '+15550000001')).map((p) => p.participantId)).toEqual(['CA1']);
    } finally {
      await store.close();
    }
  });
});
