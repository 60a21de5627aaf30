import { BouncerError } from '../../app/domain/errors.js';
import { compareRosterOrder, type Participant } from '../../app/domain/participant.js';
import type { RosterQuery, RosterStore } from '../../app/ports/store.js';
import { InTurn } from '../in-turn.js';
import { participantReader, ROSTER_COLUMNS as COLUMNS, toCount } from '../rows/roster.js';
import { postgresColumns } from './columns.js';
import { jsonParam, type Database, type Tx } from './database.js';

const toParticipant = participantReader(postgresColumns);

/** NULLS FIRST and byte order (COLLATE "C" columns): the order SQLite lists in (the roster_by_name index). */
const ROSTER_ORDER = 'ORDER BY display_name NULLS FIRST, participant_id';

/** One participant as the upsert statement reads it (jsonb_to_recordset). */
interface ParticipantRecord {
  participant_id: string;
  kind: string;
  identity_id: string | null;
  identity_key: string | null;
  display_name: string | null;
  tenant_id: string | null;
  is_in_lobby: boolean;
  label: string | null;
  label_key: string | null;
  phone_numbers: string[];
}

/**
 * The list as one row per participant id, as if each had been upserted in turn: the last one
 * wins, but a missing display name, label or phone numbers keeps an earlier one's (as the upsert
 * keeps the stored ones). One INSERT … ON CONFLICT cannot touch the same row twice.
 */
export function collapseParticipants(participants: Participant[]): Participant[] {
  const byId = new Map<string, Participant>();
  for (const p of participants) {
    const earlier = byId.get(p.participantId);
    byId.set(
      p.participantId,
      earlier
        ? {
            ...p,
            displayName: p.displayName ?? earlier.displayName,
            label: p.label ?? earlier.label,
            phoneNumbers: (p.phoneNumbers ?? []).length > 0 ? p.phoneNumbers : earlier.phoneNumbers,
          }
        : p,
    );
  }
  return [...byId.values()];
}

function recordOf(p: Participant): ParticipantRecord {
  return {
    participant_id: p.participantId,
    kind: p.kind,
    identity_id: p.identityId ?? null,
    identity_key: p.identityId?.toLowerCase() ?? null,
    display_name: p.displayName ?? null,
    tenant_id: p.tenantId ?? null,
    is_in_lobby: p.isInLobby === true,
    label: p.label ?? null,
    label_key: p.label?.toLowerCase() ?? null,
    phone_numbers: p.phoneNumbers ?? [],
  };
}

/**
 * The roster's statements over the table `roster` (schema-qualified). The lookups are index
 * searches (test/store/postgres-roster-plans.test.ts checks PostgreSQL's plan for each): they have
 * no ORDER BY, and their few rows are put in roster order afterwards.
 */
export function rosterStatements(roster: string) {
  const notExcluded = 'NOT (kind = ANY($2::text[]))';
  return {
    // The whole list is one statement (atomic by itself). A later notification without a
    // display name, label or phone numbers keeps the known ones.
    upsert: `INSERT INTO ${roster} AS r (call_id, participant_id, kind, identity_id, identity_key, display_name, tenant_id,
         is_in_lobby, label, label_key, phone_numbers)
       SELECT $1, p.participant_id, p.kind, p.identity_id, p.identity_key, p.display_name, p.tenant_id, p.is_in_lobby, p.label,
         p.label_key, p.phone_numbers
       FROM jsonb_to_recordset($2::jsonb) AS p(participant_id text, kind text, identity_id text, identity_key text,
         display_name text, tenant_id text, is_in_lobby boolean, label text, label_key text, phone_numbers jsonb)
       ON CONFLICT (call_id, participant_id) DO UPDATE SET kind = excluded.kind, identity_id = excluded.identity_id,
         identity_key = excluded.identity_key,
         display_name = COALESCE(excluded.display_name, r.display_name), tenant_id = excluded.tenant_id,
         is_in_lobby = excluded.is_in_lobby, label = COALESCE(excluded.label, r.label),
         label_key = COALESCE(excluded.label_key, r.label_key),
         phone_numbers = CASE WHEN excluded.phone_numbers = '[]'::jsonb THEN r.phone_numbers ELSE excluded.phone_numbers END`,
    remove: `DELETE FROM ${roster} WHERE call_id = $1 AND participant_id = ANY($2::text[])`,
    removeAll: `DELETE FROM ${roster} WHERE call_id = $1`,
    removeOthers: `DELETE FROM ${roster} WHERE call_id = $1 AND NOT (participant_id = ANY($2::text[]))`,
    // Syncs of one call on every instance take turns (a transaction-scoped lock on the call).
    lockCall: `SELECT pg_advisory_xact_lock(hashtextextended('bouncer:roster-sync:' || $1, 0))`,
    list: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 ${ROSTER_ORDER}`,
    count: `SELECT count(*)::integer AS n FROM ${roster} WHERE call_id = $1 AND ${notExcluded}`,
    page: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 AND ${notExcluded} ${ROSTER_ORDER} LIMIT $3 OFFSET $4`,
    byParticipantId: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 AND participant_id = $2`,
    byIdentity: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 AND identity_key = $2`,
    byLabel: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 AND label_key = $2 AND label = $3`,
    byLabelKey: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 AND label_key = $2`,
    byPhone: `SELECT ${COLUMNS} FROM ${roster} WHERE call_id = $1 AND phone_numbers @> $2::jsonb`,
  } as const;
}

/**
 * Who is in each call: the `roster` table. The lookups a kick makes are index searches (migration 3:
 * lower-cased identity and label keys, a GIN index on the phone numbers).
 */
export class PostgresRosterStore implements RosterStore {
  private readonly sql: ReturnType<typeof rosterStatements>;
  /** Syncs of one call take turns in this instance. */
  private readonly syncs = new InTurn();

  constructor(private readonly db: Database) {
    this.sql = rosterStatements(db.tables.roster);
  }

  async upsert(callId: string, participants: Participant[]): Promise<void> {
    if (participants.length === 0) return;
    await this.db.write('update a roster', this.sql.upsert, this.upsertParams(callId, participants));
  }

  async remove(callId: string, participantIds: string[]): Promise<void> {
    if (participantIds.length === 0) return;
    await this.db.write('remove from a roster', this.sql.remove, [callId, participantIds]);
  }

  async replace(callId: string, participants: Participant[]): Promise<void> {
    await this.db.transaction('replace a roster', async (tx: Tx) => {
      await tx.query(this.sql.removeAll, [callId]);
      if (participants.length > 0) await tx.query(this.sql.upsert, this.upsertParams(callId, participants));
    });
  }

  /** One transaction (atomic, which the contract allows): the list upserted, everyone else removed. */
  sync(callId: string, participants: Participant[]): Promise<void> {
    return this.syncs.run(callId, () => this.syncNow(callId, participants));
  }

  private async syncNow(callId: string, participants: Participant[]): Promise<void> {
    await this.db.transaction('sync a roster', async (tx: Tx) => {
      await tx.query(this.sql.lockCall, [callId]);
      if (participants.length > 0) await tx.query(this.sql.upsert, this.upsertParams(callId, participants));
      await tx.query(this.sql.removeOthers, [callId, participants.map((p) => p.participantId)]);
    });
  }

  async list(callId: string): Promise<Participant[]> {
    return this.rows(await this.db.read('list a roster', this.sql.list, [callId]));
  }

  async count(callId: string, query: RosterQuery = {}): Promise<number> {
    const rows = await this.db.read('count a roster', this.sql.count, [callId, [...(query.excludeKinds ?? [])]]);
    return toCount(rows[0]);
  }

  async page(callId: string, query: RosterQuery & { offset: number; limit: number }): Promise<Participant[]> {
    const { offset, limit } = query;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 0) {
      throw new BouncerError('INVALID_ARGUMENT', `a roster page needs a whole offset and limit of 0 or more (got ${offset}, ${limit})`);
    }
    return this.rows(await this.db.read('page a roster', this.sql.page, [callId, [...(query.excludeKinds ?? [])], limit, offset]));
  }

  async findByParticipantId(callId: string, participantId: string): Promise<Participant | undefined> {
    return this.rows(await this.db.read('find in a roster', this.sql.byParticipantId, [callId, participantId]))[0];
  }

  async findByIdentity(callId: string, identityId: string): Promise<Participant[]> {
    return this.sorted(await this.db.read('find in a roster', this.sql.byIdentity, [callId, identityId.toLowerCase()]));
  }

  async findByLabel(callId: string, label: string, options: { ignoreCase?: boolean } = {}): Promise<Participant[]> {
    const key = label.toLowerCase();
    const rows = options.ignoreCase
      ? await this.db.read('find in a roster', this.sql.byLabelKey, [callId, key])
      : await this.db.read('find in a roster', this.sql.byLabel, [callId, key, label]);
    return this.sorted(rows);
  }

  async findByPhone(callId: string, phoneNumber: string): Promise<Participant[]> {
    return this.sorted(await this.db.read('find in a roster', this.sql.byPhone, [callId, jsonParam([phoneNumber])]));
  }

  private rows(rows: unknown[]): Participant[] {
    return rows.map(toParticipant);
  }

  private sorted(rows: unknown[]): Participant[] {
    return this.rows(rows).sort(compareRosterOrder);
  }

  private upsertParams(callId: string, participants: Participant[]): unknown[] {
    return [callId, jsonParam(collapseParticipants(participants).map(recordOf))];
  }
}
