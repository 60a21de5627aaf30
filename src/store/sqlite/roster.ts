import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { Participant } from '../../app/domain/participant.js';
import type { RosterStore } from '../../app/ports/store.js';
import { jsonText, optional, parseRow, participantKind, stringList } from '../row-schemas.js';
import { WriteGuard } from './write-guard.js';

const rosterRow = z
  .object({
    call_id: z.string(),
    participant_id: z.string(),
    kind: participantKind,
    identity_id: optional(z.string()),
    display_name: optional(z.string()),
    tenant_id: optional(z.string()),
    is_in_lobby: z.union([z.literal(0), z.literal(1)]),
    label: optional(z.string()),
    phone_numbers: jsonText(stringList),
  })
  .transform(
    (r): Participant => ({
      callId: r.call_id,
      participantId: r.participant_id,
      kind: r.kind,
      identityId: r.identity_id,
      displayName: r.display_name,
      tenantId: r.tenant_id,
      isInLobby: r.is_in_lobby === 1,
      label: r.label,
      phoneNumbers: r.phone_numbers,
    }),
  );

/** Who is in each call: the `roster` table. */
export class SqliteRosterStore implements RosterStore {
  private readonly db: Database.Database;
  private readonly upsertOne: Database.Statement<[Record<string, string | number | null>]>;
  private readonly removeOne: Database.Statement<[string, string]>;
  private readonly removeAll: Database.Statement<[string]>;
  private readonly listAll: Database.Statement<[string]>;

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.db = db;
    // A later notification without a display name, label or phone numbers keeps the known ones.
    this.upsertOne = db.prepare(
      `INSERT INTO roster (call_id, participant_id, kind, identity_id, display_name, tenant_id, is_in_lobby, label, phone_numbers)
       VALUES (@callId, @participantId, @kind, @identityId, @displayName, @tenantId, @isInLobby, @label, @phoneNumbers)
       ON CONFLICT (call_id, participant_id) DO UPDATE SET kind = excluded.kind, identity_id = excluded.identity_id,
         display_name = COALESCE(excluded.display_name, roster.display_name), tenant_id = excluded.tenant_id,
         is_in_lobby = excluded.is_in_lobby, label = COALESCE(excluded.label, roster.label),
         phone_numbers = CASE WHEN excluded.phone_numbers = '[]' THEN roster.phone_numbers ELSE excluded.phone_numbers END`,
    );
    this.removeOne = db.prepare('DELETE FROM roster WHERE call_id = ? AND participant_id = ?');
    this.removeAll = db.prepare('DELETE FROM roster WHERE call_id = ?');
    this.listAll = db.prepare(
      `SELECT call_id, participant_id, kind, identity_id, display_name, tenant_id, is_in_lobby, label, phone_numbers
       FROM roster WHERE call_id = ? ORDER BY display_name, participant_id`,
    );
  }

  async upsert(callId: string, participants: Participant[]): Promise<void> {
    this.guard.run('update a roster', () => this.db.transaction(() => this.upsertAll(callId, participants))());
  }

  async remove(callId: string, participantIds: string[]): Promise<void> {
    this.guard.run('remove from a roster', () =>
      this.db.transaction(() => {
        for (const id of participantIds) this.removeOne.run(callId, id);
      })(),
    );
  }

  async replace(callId: string, participants: Participant[]): Promise<void> {
    this.guard.run('replace a roster', () =>
      this.db.transaction(() => {
        this.removeAll.run(callId);
        this.upsertAll(callId, participants);
      })(),
    );
  }

  async list(callId: string): Promise<Participant[]> {
    return this.listAll.all(callId).map((row) => parseRow(rosterRow, row, 'roster'));
  }

  /** Writes each participant; the caller holds the transaction. */
  private upsertAll(callId: string, participants: Participant[]): void {
    for (const p of participants) {
      this.upsertOne.run({
        callId,
        participantId: p.participantId,
        kind: p.kind,
        identityId: p.identityId ?? null,
        displayName: p.displayName ?? null,
        tenantId: p.tenantId ?? null,
        isInLobby: p.isInLobby ? 1 : 0,
        label: p.label ?? null,
        phoneNumbers: JSON.stringify(p.phoneNumbers ?? []),
      });
    }
  }
}
