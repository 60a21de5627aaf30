import { BouncerError } from '../../app/domain/errors.js';

/**
 * What PostgreSQL and node-postgres throw, as the store's coded errors: STORE_BUSY (retryable:
 * contention, a statement over its deadline, no free connection, a server that did not answer in
 * time) or STORE_FAILED, keeping the
 * cause. Messages are for the logs: they name the operation and the server's own message and
 * SQLSTATE, never the SQL or its parameters; renderers never show them.
 */

/**
 * SQLSTATEs that mean "busy, try again shortly" (https://www.postgresql.org/docs/current/errcodes-appendix.html):
 * serialization_failure, deadlock_detected, lock_not_available, query_canceled (statement_timeout),
 * too_many_connections, cannot_connect_now (the server is starting).
 */
const BUSY_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01', '55P03', '57014', '53300', '57P03']);

/** Node's socket errors: the server cannot be reached. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

/** node-postgres's own messages for a connection that did not open, broke, or did not answer in time. */
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout expired',
  'Query read timeout',
  'Client has encountered a connection error',
  'Client was closed',
];

/**
 * node-postgres's and pg-pool's messages for a server that is there but too slow: every pooled
 * connection in use for longer than the connect deadline, a new connection not accepted within it,
 * or a statement whose answer did not come within the client's deadline (query_timeout, set just
 * beyond statement_timeout). Trying again shortly may work; the last two are connection failures
 * too, so their connection is closed, not reused.
 */
const SLOW_SERVER_MESSAGES = ['timeout exceeded when trying to connect', 'Connection terminated due to connection timeout', 'Query read timeout'];

function codeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The failure's own words and code, for a log line (no SQL: node-postgres's messages do not quote it). */
export function describeError(err: unknown): string {
  const code = codeOf(err);
  return `${messageOf(err)}${code ? ` [${code}]` : ''}`;
}

function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.message === '') return err.errors.map(messageOf).join('; ');
  return err instanceof Error ? err.message : String(err);
}

/** Contention, a statement over its deadline, no free connection, or no answer in time: trying again shortly may work. */
export function isBusy(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined && BUSY_SQLSTATES.has(code)) return true;
  return err instanceof Error && SLOW_SERVER_MESSAGES.some((m) => err.message.startsWith(m));
}

/** The server cannot be reached, went away, or a connection broke (a ping sees these by itself). */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof AggregateError) return err.errors.some(isConnectionFailure);
  const code = codeOf(err);
  if (code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('08') || code === '57P01' || code === '57P02')) return true;
  return err instanceof Error && CONNECTION_MESSAGES.some((m) => err.message.startsWith(m));
}

/** `err` as the store's coded error; `what` names the operation ("open a case"). */
export function toStoreError(what: string, err: unknown): BouncerError {
  if (err instanceof BouncerError) return err;
  const why = describeError(err);
  if (isBusy(err)) return new BouncerError('STORE_BUSY', `the database is busy (${what}): ${why}`, { cause: err });
  if (isConnectionFailure(err)) {
    return new BouncerError('STORE_FAILED', `cannot reach the PostgreSQL server (${what}): ${why}`, { cause: err });
  }
  return new BouncerError('STORE_FAILED', `the database failed to ${what}: ${why}`, { cause: err });
}
