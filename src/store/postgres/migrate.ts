import { createHash } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from './database.js';
import { MIGRATIONS } from './schema.js';

/**
 * The advisory lock key of a schema's migrations: the same on every instance, different for
 * every schema (a signed 64-bit number, as pg_advisory_lock takes it, passed as text).
 */
export function migrationLockKey(schema: string): string {
  const digest = createHash('sha256').update(`bouncer:migrations:${schema}`).digest();
  return digest.readBigInt64BE(0).toString();
}

/**
 * Brings `schema` up to date on `client` (a connection of its own, kept for this): creates the
 * schema when missing, then applies the migrations `schema_migrations` does not list, each in
 * its own transaction. The whole runs under a session advisory lock, so that instances starting
 * together wait for each other instead of racing; the lock goes with the session if the process
 * dies. Returns the versions applied. On a failure the caller ends the connection, which rolls
 * back the migration under way and releases the lock.
 */
export async function migrate(client: pg.Client, schema: string, migrations: readonly string[] = MIGRATIONS): Promise<number[]> {
  const key = migrationLockKey(schema);
  await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
  // Checked first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
  const existing = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (existing.rowCount === 0) await client.query(`CREATE SCHEMA ${quoteIdent(schema)}`);
  await client.query(`SET search_path TO ${quoteIdent(schema)}`);
  await client.query(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       version    integer PRIMARY KEY,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  const { rows } = await client.query<{ version: number }>('SELECT COALESCE(max(version), 0)::integer AS version FROM schema_migrations');
  const applied: number[] = [];
  for (let version = (rows[0]?.version ?? 0) + 1; version <= migrations.length; version++) {
    await client.query('BEGIN');
    await client.query(migrations[version - 1]!);
    await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
    await client.query('COMMIT');
    applied.push(version);
  }
  await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]);
  return applied;
}
