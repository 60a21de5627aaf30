import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/schema.js';
import { PRUNE_CALL_STATES } from '../../src/store/sqlite/bindings.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { binding } from './contract/index.js';

/** The schema version before bindings had a reply address. */
const BEFORE_REPLY_ADDRESS = 4;
/** The schema version before the roster had lookup keys and its phone table. */
const BEFORE_ROSTER_KEYS = 6;
/** The schema version before bans. */
const BEFORE_BANS = 7;
/** The schema version before the mod-log channels and the case reasons' history. */
const BEFORE_CASE_TOOLS = 8;
/** The schema version before call states were kept apart from bindings. */
const BEFORE_CALL_STATES = 9;

/** The schema version before lockdowns. */
const BEFORE_LOCKDOWNS = 10;
/** The schema version before call states were indexed by when they were last updated (for pruning). */
const BEFORE_CALL_STATE_PRUNING = 11;

/** Creates a database at schema version `version`, as an older Bouncer left it. */
function databaseAt(file: string, version: number): Database.Database {
  const db = new Database(file);
  for (const step of MIGRATIONS.slice(0, version)) db.exec(step);
  db.pragma(`user_version = ${version}`);
  return db;
}

/** Each test's database file, in a temporary folder of its own. */
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-migrate-'));
  file = path.join(dir, 'bouncer.sqlite');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Opens the store on `file` (which runs the migrations it lacks), runs `use` on it and closes it. */
async function withStore(use: (store: SqliteStore) => Promise<void>): Promise<void> {
  const store = SqliteStore.open(file);
  try {
    await use(store);
  } finally {
    await store.close();
  }
}

/** The schema version `file` is at, read afresh. */
function versionOf(): number {
  const inspect = new Database(file, { readonly: true });
  try {
    return inspect.pragma('user_version', { simple: true }) as number;
  } finally {
    inspect.close();
  }
}

const OLD_BINDING = `INSERT INTO bindings (conversation_id, provider, call_id, state, service_url, created_at, updated_at)
  VALUES (?, 'teams', ?, 'established', ?, '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:00.000Z')`;

describe('migration 5: bindings.reply_address', () => {
  it("turns each service URL into the Teams channel's reply address, {\"serviceUrl\":\"…\"}", async () => {
    const old = databaseAt(file, BEFORE_REPLY_ADDRESS);
    old.prepare(OLD_BINDING).run('19:a@thread.v2', 'call-a', 'https://smba.trafficmanager.net/amer/');
    old.prepare(OLD_BINDING).run('19:b@thread.v2', 'call-b', 'https://smba.example/emea/"quoted"/ü/');
    old.prepare(OLD_BINDING).run('19:c@thread.v2', 'call-c', null);
    old.close();

    await withStore(async (store) => {
      expect((await store.bindings.get('19:a@thread.v2'))?.replyAddress).toBe('{"serviceUrl":"https://smba.trafficmanager.net/amer/"}');
      // The same text the Teams channel writes with JSON.stringify.
      expect((await store.bindings.get('19:b@thread.v2'))?.replyAddress).toBe(
        JSON.stringify({ serviceUrl: 'https://smba.example/emea/"quoted"/ü/' }),
      );
      expect((await store.bindings.get('19:c@thread.v2'))?.replyAddress).toBeUndefined();
      expect(await store.bindings.get('19:c@thread.v2')).toEqual({
        conversationId: '19:c@thread.v2',
        provider: 'teams',
        callId: 'call-c',
        state: 'established',
        createdAt: '2026-11-22T10:00:00.000Z',
        updatedAt: '2026-11-22T10:00:00.000Z',
      });
    });

    // Every later migration applies on top.
    expect(versionOf()).toBe(MIGRATIONS.length);
  });

  it('leaves service_url in place and no longer writes it', async () => {
    const old = databaseAt(file, BEFORE_REPLY_ADDRESS);
    old.prepare(OLD_BINDING).run('19:a@thread.v2', 'call-a', 'https://smba.trafficmanager.net/amer/');
    old.close();

    await withStore(async (store) => {
      await store.bindings.save(binding({ conversationId: '19:a@thread.v2', replyAddress: 'new address' }));
      await store.bindings.save(binding({ conversationId: '19:new@thread.v2', replyAddress: 'another address' }));
    });

    const inspect = new Database(file, { readonly: true });
    const rows = inspect.prepare('SELECT conversation_id, service_url, reply_address FROM bindings ORDER BY conversation_id').all();
    inspect.close();
    expect(rows).toEqual([
      { conversation_id: '19:a@thread.v2', service_url: 'https://smba.trafficmanager.net/amer/', reply_address: 'new address' },
      { conversation_id: '19:new@thread.v2', service_url: null, reply_address: 'another address' },
    ]);
  });
});

describe('migration 7: roster lookup keys and phone numbers', () => {
  const OLD_PARTICIPANT = `INSERT INTO roster (call_id, participant_id, kind, identity_id, display_name, is_in_lobby, label, phone_numbers)
    VALUES ('call-1', ?, ?, ?, ?, 0, ?, ?)`;

  it('makes the rosters an older Bouncer kept findable by identity, label and phone number', async () => {
    const old = databaseAt(file, BEFORE_ROSTER_KEYS);
    old.prepare(OLD_PARTICIPANT).run('p1', 'user', 'AAAA-Bbbb', 'Mallory', null, '[]');
    old.prepare(OLD_PARTICIPANT).run('CA1', 'phone', null, null, 'Guest 3', '["+15550000001","+15550000002"]');
    // A row no Bouncer wrote: the migration goes through, reading it still fails as before.
    old.prepare(OLD_PARTICIPANT).run('CA2', 'phone', null, null, null, 'not json');
    old.close();

    await withStore(async (store) => {
      expect((await store.roster.findByIdentity('call-1', 'aaaa-bbbb')).map((p) => p.participantId)).toEqual(['p1']);
      expect((await store.roster.findByLabel('call-1', 'guest 3', { ignoreCase: true })).map((p) => p.participantId)).toEqual(['CA1']);
      expect((await store.roster.findByLabel('call-1', 'Guest 3')).map((p) => p.participantId)).toEqual(['CA1']);
      expect((await store.roster.findByPhone('call-1', '+15550000002')).map((p) => p.participantId)).toEqual(['CA1']);
      expect(await store.roster.count('call-1')).toBe(3);
      // The phone numbers go with their participant.
      await store.roster.remove('call-1', ['CA1']);
      expect(await store.roster.findByPhone('call-1', '+15550000001')).toEqual([]);
    });
    const inspect = new Database(file, { readonly: true });
    expect(inspect.prepare('SELECT count(*) AS n FROM roster_phones').get()).toEqual({ n: 0 });
    // Every later migration applies on top.
    expect(inspect.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    inspect.close();
  });
});

describe('migration 8: bans, and bindings by call name', () => {
  it('applies to a database an older Bouncer kept: its bindings are found by call name, and bans can be stored', async () => {
    const older = databaseAt(file, BEFORE_BANS);
    older
      .prepare(
        `INSERT INTO bindings (conversation_id, provider, call_id, call_name, state, created_at, updated_at)
         VALUES ('19:a@thread.v2', 'twilio', 'CF1', 'Support bridge', 'terminated', '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:00.000Z')`,
      )
      .run();
    older.close();
    await withStore(async (store) => {
      expect((await store.bindings.listByCallName('twilio', 'Support bridge')).map((b) => b.conversationId)).toEqual(['19:a@thread.v2']);
      await store.bans.add({ caseId: 1, scope: '19:a@thread.v2', identities: [{ kind: 'phone', value: '+15550000001' }], createdAt: '2026-11-22T10:00:00.000Z' });
      expect(await store.bans.findActive(['19:a@thread.v2'], [{ kind: 'phone', value: '+15550000001' }], '2026-11-22T11:00:00.000Z')).toHaveLength(1);
    });
    expect(versionOf()).toBe(MIGRATIONS.length);
  });
});

describe('migration 10: call states', () => {
  it('applies to a database an older Bouncer kept: its bindings stay, and a call state notified before a binding is saved is kept', async () => {
    const older = databaseAt(file, BEFORE_CALL_STATES);
    older
      .prepare(
        `INSERT INTO bindings (conversation_id, provider, call_id, state, created_at, updated_at)
         VALUES ('19:a@thread.v2', 'teams', 'call-a', 'established', '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:00.000Z')`,
      )
      .run();
    older.close();
    await withStore(async (store) => {
      expect((await store.bindings.get('19:a@thread.v2'))?.state).toBe('established');
      await store.bindings.setCallState('call-b', 'established', '2026-11-22T10:00:01.000Z');
      await store.bindings.save({ conversationId: '19:b@thread.v2', provider: 'teams', callId: 'call-b', state: 'establishing', createdAt: '2026-11-22T10:00:02.000Z', updatedAt: '2026-11-22T10:00:02.000Z' });
      expect((await store.bindings.get('19:b@thread.v2'))?.state).toBe('established');
    });
    expect(versionOf()).toBe(MIGRATIONS.length);
  });
});

describe('migration 9: mod-log channels, case reason history, cases by target', () => {
  it("applies to an older database: its cases' target user ids become lower case and are found; reasons can be edited", async () => {
    const older = databaseAt(file, BEFORE_CASE_TOOLS);
    older
      .prepare(
        `INSERT INTO cases (created_at, status, source, action, request_id, target_user_id, reason)
         VALUES ('2026-11-22T10:00:00.000Z', 'completed', 'chat', 'kick', 'r1', 'AAAA-BBBB', 'spam')`,
      )
      .run();
    older.close();
    await withStore(async (store) => {
      const [found] = await store.cases.listByTarget({ userId: 'aaaa-bbbb', limit: 5 });
      expect(found).toMatchObject({ id: 1, targetUserId: 'aaaa-bbbb' });
      expect(await store.cases.editReason(1, { reason: 'phishing', editedAt: '2026-11-22T11:00:00.000Z', editCaseId: 2 })).toEqual({ found: true, previous: 'spam' });
      expect(await store.modlog.list()).toEqual([]);
    });
  });
});

describe('migration 11: lockdowns', () => {
  it('applies to a database an older Bouncer kept: a lockdown can be stored and ended', async () => {
    databaseAt(file, BEFORE_LOCKDOWNS).close();
    await withStore(async (store) => {
      const l = { provider: 'twilio', callKey: 'Support bridge', callId: 'CF1', caseId: 3, source: 'chat' as const, chat: false, mute: true, startedAt: '2026-11-23T10:00:00.000Z' };
      expect((await store.lockdowns.begin(l)).started).toBe(true);
      expect((await store.lockdowns.end('twilio', 'Support bridge'))?.caseId).toBe(3);
    });
    expect(versionOf()).toBe(MIGRATIONS.length);
  });
});

describe('migration 12: call states by when they were last updated', () => {
  it('is the last migration', () => {
    expect(MIGRATIONS).toHaveLength(BEFORE_CALL_STATE_PRUNING + 1);
  });

  it("applies to a database an older Bouncer kept: its call states are pruned, through the index", async () => {
    const old = databaseAt(file, BEFORE_CALL_STATE_PRUNING);
    const insert = old.prepare('INSERT INTO call_states (call_id, state, updated_at) VALUES (?, ?, ?)');
    insert.run('ended', 'terminated', '2026-11-01T10:00:00.000Z');
    insert.run('live', 'established', '2026-11-22T10:00:00.000Z');
    old.close();
    await withStore(async (store) => {
      expect(await store.bindings.pruneCallStates('2026-11-21T10:00:00.000Z', '2026-11-15T10:00:00.000Z')).toBe(1);
    });
    const inspect = new Database(file, { readonly: true });
    expect(inspect.pragma('user_version', { simple: true })).toBe(BEFORE_CALL_STATE_PRUNING + 1);
    expect(inspect.prepare('SELECT call_id FROM call_states').all()).toEqual([{ call_id: 'live' }]);
    const plan = inspect.prepare(`EXPLAIN QUERY PLAN ${PRUNE_CALL_STATES}`).all({ upper: 'a', ended: 'a', idle: 'a', limit: 500 }) as Array<{ detail: string }>;
    const steps = plan.map((p) => p.detail).join('\n');
    expect(steps).toMatch(/SEARCH c USING INDEX call_states_updated \(updated_at<\?\)/);
    expect(steps).toMatch(/SEARCH b USING INDEX bindings_call_id \(call_id=\?\)/);
    inspect.close();
  });
});
