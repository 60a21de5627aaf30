import { z } from 'zod';
import type { Participant } from '../../app/domain/participant.js';
import type { RosterStore } from '../../app/ports/store.js';
import { optional, parseRow, participantKind, stringList } from '../row-schemas.js';
import { jsonParam, type Database, type Tx } from './database.js';

const rosterRow = z
  .object({
    call_id: z.string(),
    participant_id: z.string(),
    kind: participantKind,
    identity_id: optional(z.string()),
    display_name: optional(z.string()),
    tenant_id: optional(z.string()),
    is_in_lobby: z.boolean(),
    label: optional(z.string()),
    phone_numbers: stringList,
  })
  .transform(
    (r): Participant => ({
      callId: r.call_id,
      participantId: r.participant_id,
      kind: r.kind,
      identityId: r.identity_id,
      displayName: r.display_name,
      tenantId: r.tenant_id,
      isInLobby: r.is_in_lobby,
      label: r.label,
      phoneNumbers: r.phone_numbers,
    }),
  );

/** One participant as the upsert statement reads it (jsonb_to_recordset). */
interface ParticipantRecord {
  participant_id: string;
  kind: string;
  identity_id: string | null;
  display_name: string | null;
  tenant_id: string | null;
  is_in_lobby: boolean;
  label: string | null;
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
    display_name: p.displayName ?? null,
    tenant_id: p.tenantId ?? null,
    is_in_lobby: p.isInLobby === true,
    label: p.label ?? null,
    phone_numbers: p.phoneNumbers ?? [],
  };
}

/** Who is in each call: the `roster` table. */
export class PostgresRosterStore implements RosterStore {
  private readonly sql: { upsert: string; remove: string; removeAll: string; list: string };

  constructor(private readonly db: Database) {
    const { roster } = db.tables;
    this.sql = {
      // The whole list is one statement (atomic by itself). A later notification without a
      // display name, label or phone numbers keeps the known ones.
      upsert: `INSERT INTO ${roster} AS r (call_id, participant_id, kind, identity_id, display_name, tenant_id, is_in_lobby,
           label, phone_numbers)
         SELECT $1, p.participant_id, p.kind, p.identity_id, p.display_name, p.tenant_id, p.is_in_lobby, p.label, p.phone_numbers
         FROM jsonb_to_recordset($2::jsonb) AS p(participant_id text, kind text, identity_id text, display_name text,
           tenant_id text, is_in_lobby boolean, label text, phone_numbers jsonb)
         ON CONFLICT (call_id, participant_id) DO UPDATE SET kind = excluded.kind, identity_id = excluded.identity_id,
           display_name = COALESCE(excluded.display_name, r.display_name), tenant_id = excluded.tenant_id,
           is_in_lobby = excluded.is_in_lobby, label = COALESCE(excluded.label, r.label),
           phone_numbers = CASE WHEN excluded.phone_numbers = '[]'::jsonb THEN r.phone_numbers ELSE excluded.phone_numbers END`,
      remove: `DELETE FROM ${roster} WHERE call_id = $1 AND participant_id = ANY($2::text[])`,
      removeAll: `DELETE FROM ${roster} WHERE call_id = $1`,
      // NULLS FIRST and byte order (COLLATE "C" columns): the order SQLite lists in.
      list: `SELECT call_id, participant_id, kind, identity_id, display_name, tenant_id, is_in_lobby, label, phone_numbers
         FROM ${roster} WHERE call_id = $1 ORDER BY display_name NULLS FIRST, participant_id`,
    };
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

  async list(callId: string): Promise<Participant[]> {
    const rows = await this.db.read('list a roster', this.sql.list, [callId]);
    return rows.map((row) => parseRow(rosterRow, row, 'roster'));
  }

  private upsertParams(callId: string, participants: Participant[]): unknown[] {
    return [callId, jsonParam(collapseParticipants(participants).map(recordOf))];
  }
}
