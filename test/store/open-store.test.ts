import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/app/ports/store.js';
import { redactUrl } from '../../src/store/driver.js';
import { STORE_DRIVERS, parseStoreUrl } from '../../src/store/drivers.js';
import { openStore, openStoreAt } from '../../src/store/open-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { binding } from './contract/index.js';

describe('openStore', () => {
  let dir: string;
  const opened: Store[] = [];
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-open-store-'));
  });
  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(url: string): Promise<Store> {
    const store = await openStore(url, dir);
    opened.push(store);
    return store;
  }

  it.each([
    ['sqlite:<relative path>', 'sqlite:./data/a.sqlite', 'data/a.sqlite'],
    ['sqlite://<relative path>', 'sqlite://b.sqlite', 'b.sqlite'],
    ['file:<relative path>', 'file:./x/c.db', 'x/c.db'],
    ['a plain relative path', 'plain/d.db', 'plain/d.db'],
  ])('opens SQLite for %s, relative to cwd', async (_what, url, relative) => {
    const store = await open(url);

    expect(store).toBeInstanceOf(SqliteStore);
    await store.bindings.save(binding());
    expect(existsSync(path.join(dir, relative))).toBe(true);
  });

  it('opens SQLite for an absolute sqlite:/// path', async () => {
    const file = path.join(dir, 'abs', 'e.sqlite');
    const store = await open(`sqlite://${file}`);

    expect(store).toBeInstanceOf(SqliteStore);
    expect(existsSync(file)).toBe(true);
  });

  it.each([':memory:', 'sqlite::memory:'])('opens an in-memory SQLite store for %s', async (url) => {
    const store = await open(url);

    expect(store).toBeInstanceOf(SqliteStore);
    await store.bindings.save(binding());
    expect(await store.bindings.get(binding().conversationId)).toEqual(binding());
    expect(existsSync(path.join(dir, ':memory:'))).toBe(false);
  });

  it.each([
    ['mysql://db/bouncer', 'unsupported scheme'],
    ['sqlite://mysql://db/bouncer', 'unsupported scheme'],
    ['postgres://db/bouncer?max=0', 'max must be an integer from 1 to 100'],
    ['postgresql://db/bouncer?schema=no-dashes', 'schema must be'],
  ])('rejects %s with CONFIG_INVALID', async (url, message) => {
    await expect(openStore(url, dir)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(message) });
  });

  it('fails with STORE_FAILED when the SQLite file cannot be opened', async () => {
    await expect(openStore(`sqlite:${path.join(dir, 'no', '\0bad')}`, dir)).rejects.toMatchObject({ code: 'STORE_FAILED' });
  });

  it('openStoreAt opens a location parsed before', async () => {
    const location = parseStoreUrl(':memory:', dir);
    if ('problem' in location) throw new Error(location.problem);
    const store = await openStoreAt(location);
    opened.push(store);

    expect(store).toBeInstanceOf(SqliteStore);
  });
});

describe('parseStoreUrl', () => {
  it('has SQLite as its first (default) driver', () => {
    expect(STORE_DRIVERS[0].name).toBe('sqlite');
  });

  it('names every driver in the message for an unknown scheme', () => {
    expect(parseStoreUrl('mysql://db/bouncer', '/srv')).toEqual({
      problem: `DATABASE_URL: unsupported scheme in "mysql://db/bouncer"; use ${STORE_DRIVERS.map((d) => d.example).join(' or ')}`,
    });
  });

  it('never prints a password: a URL in a message has it redacted', () => {
    const cases = [
      ['mysql://bouncer:s3cret@db/bouncer', 'mysql://bouncer:***@db/bouncer'],
      ['mysql://bouncer:s3cr@t/x#y@db:3306/bouncer', 'mysql://bouncer:***@db:3306/bouncer'],
      ['mysql://:s3cret@db/bouncer', 'mysql://:***@db/bouncer'],
      ['sqlite://mysql://bouncer:s3cret@db/bouncer', 'sqlite://mysql:***@db/bouncer'],
    ] as const;
    for (const [url, shown] of cases) {
      const parsed = parseStoreUrl(url, '/srv');
      expect(parsed).toEqual({ problem: expect.stringContaining(`"${shown}"`) });
      expect(JSON.stringify(parsed)).not.toMatch(/s3cr/);
    }
    // Without a password there is nothing to hide.
    expect(redactUrl('postgres://db:5432/bouncer?schema=x')).toBe('postgres://db:5432/bouncer?schema=x');
    expect(redactUrl('postgres://bouncer@db/bouncer')).toBe('postgres://bouncer@db/bouncer');
    expect(redactUrl('postgres://bouncer:pa%40ss@db/bouncer')).toBe('postgres://bouncer:***@db/bouncer');
  });

  it('has a PostgreSQL driver for postgres:// and postgresql:// URLs', () => {
    for (const url of ['postgres://db/bouncer', 'postgresql://db/bouncer', 'POSTGRESQL://db/bouncer']) {
      expect(parseStoreUrl(url, '/srv')).toMatchObject({ kind: 'postgres' });
    }
  });

  it('gives plain data, so that the configuration can hold it', () => {
    expect(parseStoreUrl('sqlite:data/bouncer.sqlite', '/srv')).toEqual({ kind: 'sqlite', path: '/srv/data/bouncer.sqlite' });
  });
});
