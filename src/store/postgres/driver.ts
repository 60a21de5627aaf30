import type { StoreDriver, UrlProblem } from '../driver.js';

/**
 * A PostgreSQL database, as plain data. `url` is the connection URL handed to node-postgres with
 * Bouncer's own query options (below) taken out; it may hold a password, so it is never put in a
 * message: `where` is what messages name.
 */
export interface PostgresLocation {
  kind: 'postgres';
  url: string;
  /** host:port/database, for messages and logs (no user, no password). */
  where: string;
  /** The schema Bouncer's tables live in (created at start when missing). */
  schema: string;
  /** The most connections the pool opens. */
  poolMax: number;
  /** The deadline of each statement, enforced by the server (statement_timeout) and the client. */
  statementTimeoutMs: number;
  /** The deadline for opening a connection, and for waiting for a free one from the pool. */
  connectTimeoutMs: number;
}

export const DEFAULT_SCHEMA = 'public';
export const DEFAULT_POOL_MAX = 10;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;
export const DEFAULT_CONNECT_TIMEOUT_S = 5;

/** A schema name Bouncer accepts: an unquoted-style identifier, at most 63 bytes (PostgreSQL's limit). */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Bouncer's own query options: read here, and taken out of the URL node-postgres gets. */
const OPTIONS = {
  schema: 'schema',
  max: 'max',
  statementTimeout: 'statement_timeout',
  connectTimeout: 'connect_timeout',
} as const;

/**
 * `postgres://` or `postgresql://` URLs (libpq's form: user, password, host, port, database and
 * query options such as `sslmode` or `application_name`, which node-postgres reads). Bouncer's own
 * options: `schema=<name>` (default public), `max=<1-100>` connections (default 10),
 * `statement_timeout=<ms>` (100-300000, default 5000) and `connect_timeout=<s>` (1-300, default 5).
 */
export const postgresDriver: StoreDriver<PostgresLocation> = {
  name: 'postgres',
  example: 'postgres://<user>:<password>@<host>:<port>/<database>',
  matches: (url) => /^postgres(?:ql)?:\/\//i.test(url),
  parse(url) {
    return parsePostgresUrl(url);
  },
  // Loaded on first use, so that a SQLite deployment never loads node-postgres.
  async open(location) {
    const { PostgresStore } = await import('./postgres-store.js');
    return PostgresStore.open(location);
  },
};

/** The location a postgres:// URL names, or every problem with it (never quoting the URL: it may hold a password). */
export function parsePostgresUrl(url: string): PostgresLocation | UrlProblem {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { problem: 'DATABASE_URL: not a valid PostgreSQL URL (postgres://<user>:<password>@<host>:<port>/<database>; percent-encode special characters in the password)' };
  }
  const problems: string[] = [];
  const params = parsed.searchParams;

  const schema = params.get(OPTIONS.schema) ?? DEFAULT_SCHEMA;
  if (!SCHEMA_NAME.test(schema)) {
    problems.push('schema must be letters, digits and _, not starting with a digit, at most 63 characters');
  }
  const poolMax = integerOption(params, OPTIONS.max, DEFAULT_POOL_MAX, 1, 100, problems);
  const statementTimeoutMs = integerOption(params, OPTIONS.statementTimeout, DEFAULT_STATEMENT_TIMEOUT_MS, 100, 300_000, problems);
  const connectTimeoutS = integerOption(params, OPTIONS.connectTimeout, DEFAULT_CONNECT_TIMEOUT_S, 1, 300, problems);
  if (problems.length > 0) return { problem: `DATABASE_URL: ${problems.join('; ')}` };

  for (const name of Object.values(OPTIONS)) params.delete(name);
  const host = parsed.hostname || 'localhost';
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || '(default database)';
  return {
    kind: 'postgres',
    url: parsed.toString(),
    where: `${host}:${parsed.port || '5432'}/${database}`,
    schema,
    poolMax,
    statementTimeoutMs,
    connectTimeoutMs: connectTimeoutS * 1000,
  };
}

function integerOption(params: URLSearchParams, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const text = params.get(name);
  if (text === null) return fallback;
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max}`);
    return fallback;
  }
  return value;
}
