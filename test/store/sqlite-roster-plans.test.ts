import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROSTER_READS } from '../../src/store/sqlite/roster.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { participant } from './contract/index.js';

/**
 * A kick's cost must not grow with the meeting: SQLite's own query plan for each roster lookup,
 * over a 20,000-participant call, is an index search (SEARCH … USING INDEX), never a scan of the
 * table (SCAN roster) nor a sort of the call's rows (TEMP B-TREE).
 */
let dir: string;
let db: Database.Database;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-plans-'));
  const file = path.join(dir, 'bouncer.sqlite');
  const store = SqliteStore.open(file);
  await store.roster.sync(
    'big-call',
    Array.from({ length: 20_000 }, (_, i) =>
      participant(`p${i}`, { callId: 'big-call', displayName: `Person ${i}`, label: `label ${i}`, phoneNumbers: [`+1555${String(i).padStart(7, '0')}`] }),
    ),
  );
  await store.close();
  db = new Database(file, { readonly: true });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function plan(sql: string, ...params: unknown[]): string[] {
  return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail);
}

describe('SQLite roster lookups are index searches', () => {
  // Each lookup, with the index steps SQLite must take: the whole key, never the call's range only.
  const lookups: Array<[string, string, unknown[], RegExp[]]> = [
    ['findByParticipantId', ROSTER_READS.byParticipantId, ['big-call', 'p17'], [/^SEARCH roster USING INDEX sqlite_autoindex_roster_1 \(call_id=\? AND participant_id=\?\)$/]],
    ['findByIdentity', ROSTER_READS.byIdentity, ['big-call', 'user-p17'], [/^SEARCH roster USING INDEX roster_identity_key \(call_id=\? AND identity_key=\?\)$/]],
    ['findByLabel', ROSTER_READS.byLabel, ['big-call', 'label 17', 'label 17'], [/^SEARCH roster USING INDEX roster_label_key \(call_id=\? AND label_key=\?\)$/]],
    ['findByLabel (ignoreCase)', ROSTER_READS.byLabelKey, ['big-call', 'label 17'], [/^SEARCH roster USING INDEX roster_label_key \(call_id=\? AND label_key=\?\)$/]],
    [
      'findByPhone',
      ROSTER_READS.byPhone,
      ['big-call', '+15550000017'],
      [
        /^SEARCH ph USING COVERING INDEX sqlite_autoindex_roster_phones_1 \(call_id=\? AND phone_number=\?\)$/,
        /^SEARCH r USING INDEX sqlite_autoindex_roster_1 \(call_id=\? AND participant_id=\?\)$/,
      ],
    ],
    // A page walks the name index from the start of the call and stops after offset + limit rows.
    ['page', ROSTER_READS.page, ['big-call', '["application"]', 25, 0], [/^SEARCH roster USING INDEX roster_by_name \(call_id=\?\)$/]],
  ];

  it.each(lookups)('%s', (_name, sql, params, expected) => {
    const steps = plan(sql, ...params);
    // The steps that read a roster table (not the list of excluded kinds), in order.
    const tableSteps = steps.filter((s) => /^(SEARCH|SCAN) (roster|r|ph)\b/.test(s));
    expect(tableSteps).toHaveLength(expected.length);
    tableSteps.forEach((step, i) => expect(step, steps.join(' | ')).toMatch(expected[i]!));
    expect(steps.join(' | ')).not.toMatch(/TEMP B-TREE/);
  });

  it('the lookups answer the 20,000-participant call', () => {
    expect(db.prepare(ROSTER_READS.byPhone).all('big-call', '+15550019999')).toMatchObject([{ participant_id: 'p19999' }]);
    expect(db.prepare(ROSTER_READS.byLabelKey).all('big-call', 'label 12345')).toMatchObject([{ participant_id: 'p12345' }]);
    expect(db.prepare(ROSTER_READS.byIdentity).all('big-call', 'user-p4321')).toMatchObject([{ participant_id: 'p4321' }]);
  });
});
