import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { parsePostgresUrl, type PostgresLocation } from '../../src/store/postgres/driver.js';
import { describeError } from '../../src/store/postgres/errors.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';

/**
 * The PostgreSQL the tests use: TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test).
 * Every test file works in schemas of its own (bouncer_test_<pid>_<random>), dropped afterwards.
 * Without a server the PostgreSQL suites are skipped, saying why; with REQUIRE_POSTGRES=1 (CI) a
 * missing server fails the run instead.
 */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRED = process.env.REQUIRE_POSTGRES === '1';

/** host:port/database of the test server (never its password). */
export const TEST_SERVER = (() => {
  const location = parsePostgresUrl(TEST_DATABASE_URL);
  return 'problem' in location ? '(TEST_DATABASE_URL is not a valid PostgreSQL URL)' : location.where;
})();

export type Availability = { ok: true } | { ok: false; reason: string };

/** Whether a server answers at TEST_DATABASE_URL, within 3 s. */
export async function postgresAvailability(): Promise<Availability> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000, query_timeout: 3_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: describeError(err) };
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * `describe(title, body)` when the server answered. Otherwise the same suite skipped, its title
 * saying why (and a warning on the console), or, with REQUIRE_POSTGRES=1, one failing test.
 */
export function describePostgres(title: string, availability: Availability, body: () => void): void {
  if (availability.ok) {
    describe(title, body);
    return;
  }
  const why = `no PostgreSQL server at ${TEST_SERVER} (${availability.reason})`;
  if (REQUIRED) {
    describe(title, () => {
      it('needs a PostgreSQL server (REQUIRE_POSTGRES=1)', () => {
        throw new Error(`REQUIRE_POSTGRES=1 but ${why}; set TEST_DATABASE_URL to a server the tests may create schemas in`);
      });
    });
    return;
  }
  console.warn(`[postgres] SKIPPED "${title}": ${why}. Set TEST_DATABASE_URL to run them, REQUIRE_POSTGRES=1 to fail without a server.`);
  describe.skip(`${title} [SKIPPED: ${why}; set TEST_DATABASE_URL, or REQUIRE_POSTGRES=1 to fail instead]`, body);
}

/** A fresh schema name for this process. */
export function testSchemaName(): string {
  return `bouncer_test_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** TEST_DATABASE_URL with Bouncer's query options added (schema=…, max=…, statement_timeout=…). */
export function testUrl(options: Record<string, string | number>): string {
  const url = new URL(TEST_DATABASE_URL);
  for (const [name, value] of Object.entries(options)) url.searchParams.set(name, String(value));
  return url.toString();
}

/** The location of `url`, which must parse. */
export function locationOf(url: string): PostgresLocation {
  const location = parsePostgresUrl(url);
  if ('problem' in location) throw new Error(location.problem);
  return location;
}

/** Opens a PostgresStore on the test server, in `schema`. */
export async function openTestStore(schema: string, options: Record<string, string | number> = {}): Promise<PostgresStore> {
  return PostgresStore.open(locationOf(testUrl({ schema, ...options })));
}

/**
 * A connection of the test's own to the test server (for what the store would never do: truncate,
 * corrupt rows, hold locks), opened before the enclosing suite and closed after it, and the
 * suite's schemas dropped after it.
 */
export function adminConnection(): { client: () => pg.Client; dropAfterwards: (schema: string) => string } {
  let client: pg.Client | undefined;
  const schemas: string[] = [];
  beforeAll(async () => {
    client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5_000 });
    client.on('error', () => undefined);
    await client.connect();
  });
  afterAll(async () => {
    if (!client) return;
    for (const schema of schemas.splice(0)) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await client.end();
  });
  return {
    client: () => {
      if (!client) throw new Error('the admin connection is only open inside the suite');
      return client;
    },
    dropAfterwards: (schema) => {
      schemas.push(schema);
      return schema;
    },
  };
}
