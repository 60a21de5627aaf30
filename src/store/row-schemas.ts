import { z } from 'zod';
import { BouncerError } from '../app/domain/errors.js';
import { OUTCOME_KINDS } from '../app/domain/outcome.js';
import type { CallState, Participant } from '../app/domain/participant.js';
import { BAN_IDENTITY_KINDS, MODERATION_ACTIONS, REQUEST_SOURCES, type AuditCase, type BanIdentity, type IdempotencyRecord } from '../app/ports/store.js';

/**
 * What every SQL store needs to read its rows: the fixed value sets of the domain's columns and
 * schemas for nullable and JSON columns. A row is parsed, never cast: one that does not fit
 * throws STORE_FAILED (parseRow) instead of becoming a silently wrong object.
 */

/** `true` when every member of the union `T` is in the list `L` (checked at compile time). */
export type ListsEvery<T, L extends readonly unknown[]> = [Exclude<T, L[number]>] extends [never] ? true : false;

export const CALL_STATES = ['establishing', 'established', 'terminated'] as const satisfies readonly CallState[];
const _everyCallState: ListsEvery<CallState, typeof CALL_STATES> = true;

export const PARTICIPANT_KINDS = ['user', 'guest', 'phone', 'application', 'unknown'] as const satisfies readonly Participant['kind'][];
const _everyParticipantKind: ListsEvery<Participant['kind'], typeof PARTICIPANT_KINDS> = true;

export const CASE_STATUSES = ['pending', 'completed'] as const satisfies readonly AuditCase['status'][];
const _everyCaseStatus: ListsEvery<AuditCase['status'], typeof CASE_STATUSES> = true;

export const IDEMPOTENCY_STATES = ['pending', 'done'] as const satisfies readonly IdempotencyRecord['state'][];
const _everyIdempotencyState: ListsEvery<IdempotencyRecord['state'], typeof IDEMPOTENCY_STATES> = true;

export const callState = z.enum(CALL_STATES);
export const participantKind = z.enum(PARTICIPANT_KINDS);
export const caseStatus = z.enum(CASE_STATUSES);
export const idempotencyState = z.enum(IDEMPOTENCY_STATES);
export const requestSource = z.enum(REQUEST_SOURCES);
export const moderationAction = z.enum(MODERATION_ACTIONS);
export const outcomeKind = z.enum(OUTCOME_KINDS);

export const banIdentity = z.object({ kind: z.enum(BAN_IDENTITY_KINDS), value: z.string() });
export const banIdentities = z.array(banIdentity).min(1);

/** A ban identity as it is stored and looked up: user ids in lower case. */
export function normalizedIdentity(i: BanIdentity): BanIdentity {
  return i.kind === 'user' ? { kind: 'user', value: i.value.toLowerCase() } : { kind: i.kind, value: i.value };
}

/** The indexed key of a ban identity (`user:<id>`, `phone:<E.164>`, `label:<label>`), normalized. */
export function identityKey(i: BanIdentity): string {
  const n = normalizedIdentity(i);
  return `${n.kind}:${n.value}`;
}

/** A nullable column read as an optional field (NULL → undefined). */
export function optional<T extends z.ZodType>(schema: T) {
  return schema.nullable().transform((value) => value ?? undefined);
}

/** A TEXT column that holds JSON, parsed and then checked against `schema`. */
export function jsonText<T extends z.ZodType>(schema: T) {
  return z
    .string()
    .transform((text, ctx): unknown => {
      try {
        return JSON.parse(text) as unknown;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` });
        return z.NEVER;
      }
    })
    .pipe(schema);
}

/**
 * The column types whose values the two drivers read as different JavaScript values: each driver
 * says how it reads them (`sqlite/columns.ts`, `postgres/columns.ts`), and the shared row schemas
 * (`rows/`) are built over that. Every other column is read alike: TEXT (timestamps are ISO 8601
 * text in both) as a string, NULL as null.
 */
export interface ColumnReaders {
  /** An integer id: SQLite's INTEGER is a number; PostgreSQL's bigint comes from node-postgres as text. */
  id: z.ZodType<number>;
  /** A boolean: SQLite stores 0 or 1; PostgreSQL's boolean is a boolean. */
  flag: z.ZodType<boolean>;
  /** A JSON value checked against `schema`: SQLite's TEXT is parsed here; PostgreSQL's json and jsonb come parsed. */
  json<T extends z.ZodType>(schema: T): z.ZodType<z.output<T>>;
}

export const stringList = z.array(z.string());
export const jsonObject = z.record(z.string(), z.unknown());

/**
 * Parses one row read from table `table`; throws STORE_FAILED, with the zod error as its cause,
 * when the row does not have the shape the store writes.
 */
export function parseRow<T extends z.ZodType>(schema: T, row: unknown, table: string): z.output<T> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(row)'}: ${i.message}`).join('; ');
    throw new BouncerError('STORE_FAILED', `a row of ${table} is not valid (${issues})`, { cause: parsed.error });
  }
  return parsed.data;
}

/** The reader of one table's rows: each row parsed with `schema` (see parseRow). */
export function rowReader<T extends z.ZodType>(schema: T, table: string): (row: unknown) => z.output<T> {
  return (row) => parseRow(schema, row, table);
}

/**
 * A call's state only moves forward: establishing, then established, then terminated. This is the
 * SQL (the same in SQLite and PostgreSQL) that ranks a state column, or parameter, in that order.
 */
export function callStateRank(expression: string): string {
  return `(CASE ${expression} WHEN 'establishing' THEN 0 WHEN 'established' THEN 1 ELSE 2 END)`;
}

/** The furthest of the states given (see callStateRank). */
export function furthestCallState(first: CallState, ...others: Array<CallState | undefined>): CallState {
  return others.reduce<CallState>((far, s) => (s !== undefined && CALL_STATES.indexOf(s) > CALL_STATES.indexOf(far) ? s : far), first);
}
