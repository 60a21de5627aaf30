import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { openStore, openStoreAt } from '../../src/store/open-store.js';
import { freePort } from '../support/ports.js';

/** Whether node-postgres has been loaded into this process (its CommonJS modules are in the cache). */
function pgLoaded(): boolean {
  return Object.keys(createRequire(import.meta.url).cache).some((file) => file.includes(`/node_modules/pg/`));
}

// One test: it is about what this process (a fresh one per test file) has loaded, in order.
it('loads node-postgres only when a PostgreSQL store is opened: SQLite, the default, never needs it', async () => {
  const result = loadConfig({}, '/tmp');
  if (!result.ok) throw new Error(result.problems.join('; '));
  expect(result.config.database.kind).toBe('sqlite');
  const sqlite = await openStoreAt({ kind: 'sqlite', path: ':memory:' });
  await sqlite.close();
  expect(pgLoaded()).toBe(false);

  // A closed port: the driver loads, fails to connect, and says so with a code.
  await expect(openStore(`postgres://bouncer@127.0.0.1:${await freePort()}/bouncer`, '/tmp')).rejects.toMatchObject({ code: 'STORE_FAILED' });
  expect(pgLoaded()).toBe(true);
});
