import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/schema.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { binding } from './contract/index.js';

/** The schema version before bindings had a reply address. */
const BEFORE_REPLY_ADDRESS = 4;

/** Creates a database at schema version `version`, as an older Bouncer left it. */
function databaseAt(file: string, version: number): Database.Database {
  const db = new Database(file);
  for (const step of MIGRATIONS.slice(0, version)) db.exec(step);
  db.pragma(`user_version = ${version}`);
  return db;
}

const OLD_BINDING = `INSERT INTO bindings (conversation_id, provider, call_id, state, service_url, created_at, updated_at)
  VALUES (?, 'teams', ?, 'established', ?, '2026-11-22T10:00:00.000Z', '2026-11-22T10:00:00.000Z')`;

describe('migration 5: bindings.reply_address', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-migrate-'));
    file = path.join(dir, 'bouncer.sqlite');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it("turns each service URL into the Teams channel's reply address, {\"serviceUrl\":\"…\"}", async () => {
    const old = databaseAt(file, BEFORE_REPLY_ADDRESS);
    old.prepare(OLD_BINDING).run('19:a@thread.v2', 'call-a', 'https://smba.trafficmanager.net/amer/');
    old.prepare(OLD_BINDING).run('19:b@thread.v2', 'call-b', 'https://smba.example/emea/"quoted"/ü/');
    old.prepare(OLD_BINDING).run('19:c@thread.v2', 'call-c', null);
    old.close();

    const store = SqliteStore.open(file);
    try {
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
    } finally {
      await store.close();
    }

    const inspect = new Database(file, { readonly: true });
    // Every later migration applies on top.
    expect(inspect.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    inspect.close();
  });

  it('leaves service_url in place and no longer writes it', async () => {
    const old = databaseAt(file, BEFORE_REPLY_ADDRESS);
    old.prepare(OLD_BINDING).run('19:a@thread.v2', 'call-a', 'https://smba.trafficmanager.net/amer/');
    old.close();

    const store = SqliteStore.open(file);
    try {
      await store.bindings.save(binding({ conversationId: '19:a@thread.v2', replyAddress: 'new address' }));
      await store.bindings.save(binding({ conversationId: '19:new@thread.v2', replyAddress: 'another address' }));
    } finally {
      await store.close();
    }

    const inspect = new Database(file, { readonly: true });
    const rows = inspect.prepare('SELECT conversation_id, service_url, reply_address FROM bindings ORDER BY conversation_id').all();
    inspect.close();
    expect(rows).toEqual([
      { conversation_id: '19:a@thread.v2', service_url: 'https://smba.trafficmanager.net/amer/', reply_address: 'new address' },
      { conversation_id: '19:new@thread.v2', service_url: null, reply_address: 'another address' },
    ]);
  });
});
