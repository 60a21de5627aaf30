import { randomInt } from 'node:crypto';
import type Database from 'better-sqlite3';
import { BouncerError } from '../../app/domain/errors.js';
import { yieldToEventLoop } from '../../app/domain/event-loop.js';
import { compareRosterOrder, type Participant } from '../../app/domain/participant.js';
import type { RosterQuery, RosterStore } from '../../app/ports/store.js';
import { InTurn } from '../in-turn.js';
import { participantReader, ROSTER_COLUMNS as COLUMNS, toCount } from '../rows/roster.js';
import { sqliteColumns } from './columns.js';
import { WriteGuard } from './write-guard.js';

const toParticipant = participantReader(sqliteColumns);

/** Roster order (the `roster_by_name` index). */
const ROSTER_ORDER = 'ORDER BY display_name, participant_id';
/** Excluded kinds come as a JSON array: one statement whatever is left out. */
const NOT_EXCLUDED = 'kind NOT IN (SELECT value FROM json_each(?))';

/**
 * The roster's reads. The lookups are index searches (test/store/sqlite-roster-plans.test.ts checks
 * SQLite's plan for each), so their cost does not grow with the call: they have no ORDER BY, which
 * would tempt SQLite to walk the call in name order instead, and their few rows are put in roster
 * order afterwards. `page` walks the name index; `list` and `count` read the whole call.
 */
export const ROSTER_READS = {
  list: `SELECT ${COLUMNS} FROM roster WHERE call_id = ? ${ROSTER_ORDER}`,
  count: `SELECT count(*) AS n FROM roster WHERE call_id = ? AND ${NOT_EXCLUDED}`,
  page: `SELECT ${COLUMNS} FROM roster WHERE call_id = ? AND ${NOT_EXCLUDED} ${ROSTER_ORDER} LIMIT ? OFFSET ?`,
  byParticipantId: `SELECT ${COLUMNS} FROM roster WHERE call_id = ? AND participant_id = ?`,
  byIdentity: `SELECT ${COLUMNS} FROM roster WHERE call_id = ? AND identity_key = ?`,
  // An exact label has that lower-cased label too: the index finds the candidates.
  byLabel: `SELECT ${COLUMNS} FROM roster WHERE call_id = ? AND label_key = ? AND label = ?`,
  byLabelKey: `SELECT ${COLUMNS} FROM roster WHERE call_id = ? AND label_key = ?`,
  // CROSS JOIN keeps the number's index as the outer loop.
  byPhone: `SELECT ${COLUMNS.split(', ')
    .map((c) => `r.${c}`)
    .join(', ')}
    FROM roster_phones AS ph CROSS JOIN roster AS r ON r.call_id = ph.call_id AND r.participant_id = ph.participant_id
    WHERE ph.call_id = ? AND ph.phone_number = ?`,
} as const;

/**
 * How many participants one transaction of a sync writes or removes. About 1 ms of SQLite work
 * each (four indexes to keep), so a 20,000-participant sync never holds the event loop for long.
 */
const SYNC_SLICE = 250;

/**
 * Who is in each call: the `roster` table, and `roster_phones` (the numbers, indexed). Every
 * lookup a kick makes is an indexed search (see schema.ts, migration 6).
 */
export class SqliteRosterStore implements RosterStore {
  private readonly upsertOne: Database.Statement<[Record<string, string | number | null>]>;
  private readonly removeOne: Database.Statement<[string, string]>;
  private readonly removeAll: Database.Statement<[string]>;
  private readonly removeUnsynced: Database.Statement<[string, number, number]>;
  private readonly dropPhones: Database.Statement<[string, string]>;
  private readonly addPhone: Database.Statement<[string, string, string]>;
  private readonly listAll: Database.Statement<[string]>;
  private readonly countKinds: Database.Statement<[string, string]>;
  private readonly pageKinds: Database.Statement<[string, string, number, number]>;
  private readonly byParticipantId: Database.Statement<[string, string]>;
  private readonly byIdentity: Database.Statement<[string, string]>;
  private readonly byLabel: Database.Statement<[string, string, string]>;
  private readonly byLabelKey: Database.Statement<[string, string]>;
  private readonly byPhone: Database.Statement<[string, string]>;
  /** Syncs of one call take turns in this instance. */
  private readonly syncs = new InTurn();
  // Transactions made once: better-sqlite3 builds a wrapper for each db.transaction().
  private readonly upsertTx: (callId: string, participants: Participant[], syncToken: number | null) => void;
  private readonly removeTx: (callId: string, participantIds: readonly string[]) => number;
  private readonly replaceTx: (callId: string, participants: Participant[]) => void;
  private readonly syncSmallTx: (callId: string, participants: Participant[], token: number) => void;

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    // A later notification without a display name, label or phone numbers keeps the known ones. A
    // write outside a sync (no token) keeps the row's sync token, so that a sync running meanwhile
    // does not take the row for one it did not write.
    this.upsertOne = db.prepare(
      `INSERT INTO roster (call_id, participant_id, kind, identity_id, identity_key, display_name, tenant_id, is_in_lobby, label, label_key, phone_numbers, sync_token)
       VALUES (@callId, @participantId, @kind, @identityId, @identityKey, @displayName, @tenantId, @isInLobby, @label, @labelKey, @phoneNumbers, @syncToken)
       ON CONFLICT (call_id, participant_id) DO UPDATE SET kind = excluded.kind, identity_id = excluded.identity_id,
         identity_key = excluded.identity_key,
         display_name = COALESCE(excluded.display_name, roster.display_name), tenant_id = excluded.tenant_id,
         is_in_lobby = excluded.is_in_lobby, label = COALESCE(excluded.label, roster.label),
         label_key = COALESCE(excluded.label_key, roster.label_key),
         phone_numbers = CASE WHEN excluded.phone_numbers = '[]' THEN roster.phone_numbers ELSE excluded.phone_numbers END,
         sync_token = COALESCE(excluded.sync_token, roster.sync_token)`,
    );
    // Phone numbers go with their participant (ON DELETE CASCADE, foreign_keys is on).
    this.removeOne = db.prepare('DELETE FROM roster WHERE call_id = ? AND participant_id = ?');
    this.removeAll = db.prepare('DELETE FROM roster WHERE call_id = ?');
    this.removeUnsynced = db.prepare(
      `DELETE FROM roster WHERE rowid IN (
         SELECT rowid FROM roster WHERE call_id = ? AND sync_token IS NOT ? LIMIT ?)`,
    );
    this.dropPhones = db.prepare('DELETE FROM roster_phones WHERE call_id = ? AND participant_id = ?');
    this.addPhone = db.prepare('INSERT OR IGNORE INTO roster_phones (call_id, participant_id, phone_number) VALUES (?, ?, ?)');
    this.listAll = db.prepare(ROSTER_READS.list);
    this.countKinds = db.prepare(ROSTER_READS.count);
    this.pageKinds = db.prepare(ROSTER_READS.page);
    this.byParticipantId = db.prepare(ROSTER_READS.byParticipantId);
    this.byIdentity = db.prepare(ROSTER_READS.byIdentity);
    this.byLabel = db.prepare(ROSTER_READS.byLabel);
    this.byLabelKey = db.prepare(ROSTER_READS.byLabelKey);
    this.byPhone = db.prepare(ROSTER_READS.byPhone);
    this.upsertTx = db.transaction((callId: string, participants: Participant[], syncToken: number | null) => this.upsertAll(callId, participants, syncToken));
    this.removeTx = db.transaction((callId: string, participantIds: readonly string[]) => this.removeNow(callId, participantIds));
    this.replaceTx = db.transaction((callId: string, participants: Participant[]) => {
      this.removeAll.run(callId);
      this.upsertAll(callId, participants, null);
    });
    this.syncSmallTx = db.transaction((callId: string, participants: Participant[], token: number) => {
      this.upsertAll(callId, participants, token);
      this.removeUnsynced.run(callId, token, -1);
    });
  }

  async upsert(callId: string, participants: Participant[]): Promise<void> {
    await this.guard.run('update a roster', () => this.upsertTx(callId, participants, null));
  }

  async remove(callId: string, participantIds: string[]): Promise<void> {
    // One id is one statement, atomic by itself; several take one transaction.
    await this.guard.changes('remove from a roster', () => (participantIds.length === 1 ? this.removeNow(callId, participantIds) : this.removeTx(callId, participantIds)));
  }

  /**
   * Removes participants without a transaction of its own (the caller's, or the one statement's);
   * returns how many rows went. For the case store, which removes them as a case completes.
   */
  removeNow(callId: string, participantIds: readonly string[]): number {
    let changes = 0;
    for (const id of participantIds) changes += this.removeOne.run(callId, id).changes;
    return changes;
  }

  async replace(callId: string, participants: Participant[]): Promise<void> {
    await this.guard.run('replace a roster', () => this.replaceTx(callId, participants));
  }

  sync(callId: string, participants: Participant[]): Promise<void> {
    return this.syncs.run(callId, () => this.syncNow(callId, participants));
  }

  /**
   * Writes the list (every row stamped with this sync's token), then removes the call's rows the
   * token is not on: one transaction when the list is small, else slices with the event loop let
   * run between them.
   */
  private async syncNow(callId: string, participants: Participant[]): Promise<void> {
    const token = randomInt(1, 2 ** 47);
    if (participants.length <= SYNC_SLICE) {
      await this.guard.run('sync a roster', () => this.syncSmallTx(callId, participants, token));
      return;
    }
    for (let i = 0; i < participants.length; i += SYNC_SLICE) {
      if (i > 0) await yieldToEventLoop();
      const slice = participants.slice(i, i + SYNC_SLICE);
      await this.guard.run('sync a roster', () => this.upsertTx(callId, slice, token));
    }
    for (;;) {
      await yieldToEventLoop();
      const removed = await this.guard.run('sync a roster', () => this.removeUnsynced.run(callId, token, SYNC_SLICE).changes);
      if (removed < SYNC_SLICE) return;
    }
  }

  async list(callId: string): Promise<Participant[]> {
    return this.rows(this.listAll.all(callId));
  }

  async count(callId: string, query: RosterQuery = {}): Promise<number> {
    return toCount(this.countKinds.get(callId, excluded(query)));
  }

  async page(callId: string, query: RosterQuery & { offset: number; limit: number }): Promise<Participant[]> {
    const { offset, limit } = query;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 0) {
      throw new BouncerError('INVALID_ARGUMENT', `a roster page needs a whole offset and limit of 0 or more (got ${offset}, ${limit})`);
    }
    return this.rows(this.pageKinds.all(callId, excluded(query), limit, offset));
  }

  async findByParticipantId(callId: string, participantId: string): Promise<Participant | undefined> {
    const row = this.byParticipantId.get(callId, participantId);
    return row === undefined ? undefined : toParticipant(row);
  }

  async findByIdentity(callId: string, identityId: string): Promise<Participant[]> {
    return this.rows(this.byIdentity.all(callId, identityId.toLowerCase())).sort(compareRosterOrder);
  }

  async findByLabel(callId: string, label: string, options: { ignoreCase?: boolean } = {}): Promise<Participant[]> {
    const key = label.toLowerCase();
    return this.rows(options.ignoreCase ? this.byLabelKey.all(callId, key) : this.byLabel.all(callId, key, label)).sort(compareRosterOrder);
  }

  async findByPhone(callId: string, phoneNumber: string): Promise<Participant[]> {
    return this.rows(this.byPhone.all(callId, phoneNumber)).sort(compareRosterOrder);
  }

  private rows(rows: unknown[]): Participant[] {
    return rows.map(toParticipant);
  }

  /** Writes each participant and its phone numbers; the caller holds the transaction. */
  private upsertAll(callId: string, participants: Participant[], syncToken: number | null): void {
    for (const p of participants) {
      const phones = p.phoneNumbers ?? [];
      this.upsertOne.run({
        callId,
        participantId: p.participantId,
        kind: p.kind,
        identityId: p.identityId ?? null,
        identityKey: p.identityId?.toLowerCase() ?? null,
        displayName: p.displayName ?? null,
        tenantId: p.tenantId ?? null,
        isInLobby: p.isInLobby ? 1 : 0,
        label: p.label ?? null,
        labelKey: p.label?.toLowerCase() ?? null,
        phoneNumbers: JSON.stringify(phones),
        syncToken,
      });
      // No numbers keeps the known ones, as phone_numbers does.
      if (phones.length > 0) {
        this.dropPhones.run(callId, p.participantId);
        for (const n of phones) this.addPhone.run(callId, p.participantId, n);
      }
    }
  }
}

/** The kinds a query leaves out, as the JSON array the statements read. */
function excluded(query: RosterQuery): string {
  return JSON.stringify(query.excludeKinds ?? []);
}
