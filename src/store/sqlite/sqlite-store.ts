import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { BouncerError } from '../../core/errors.js';
import type { CallBinding, CallState, Participant } from '../../core/participant.js';
import type { AuditCase, CaseResult, IdempotencyRecord, NewCase, Store, StoredResponse } from '../../core/ports.js';
import { MIGRATIONS } from './schema.js';

interface BindingRow {
  conversation_id: string;
  provider: string;
  call_id: string;
  state: string;
  meeting_id: string | null;
  join_url: string | null;
  tenant_id: string | null;
  service_url: string | null;
  call_name: string | null;
  organizer_user_id: string | null;
  created_at: string;
  updated_at: string;
}

interface RosterRow {
  call_id: string;
  participant_id: string;
  kind: string;
  identity_id: string | null;
  display_name: string | null;
  tenant_id: string | null;
  is_in_lobby: number;
  label: string | null;
  phone_numbers: string;
}

interface CaseRow {
  id: number;
  created_at: string;
  completed_at: string | null;
  status: 'pending' | 'completed';
  source: string;
  action: string;
  request_id: string;
  conversation_id: string | null;
  call_id: string | null;
  actor_user_id: string | null;
  actor_chat_id: string | null;
  actor_name: string | null;
  target_user_id: string | null;
  target_chat_id: string | null;
  target_name: string | null;
  participant_ids: string;
  reason: string | null;
  outcome: string | null;
  detail: string;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The embedded default Store: one SQLite file (WAL mode), or ':memory:' for tests. */
export class SqliteStore implements Store {
  private readonly db: Database.Database;

  private constructor(db: Database.Database) {
    this.db = db;
  }

  /** Opens (creating folders and tables as needed) the database at `file`. */
  static open(file: string): SqliteStore {
    try {
      if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
      const db = new Database(file);
      db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      return new SqliteStore(db);
    } catch (err) {
      throw new BouncerError('STORE_FAILED', `cannot open the SQLite database at ${file}`, { cause: err });
    }
  }

  async getBinding(conversationId: string): Promise<CallBinding | undefined> {
    const row = this.db.prepare<[string], BindingRow>('SELECT * FROM bindings WHERE conversation_id = ?').get(conversationId);
    return row && toBinding(row);
  }

  async findBindingByCallId(callId: string): Promise<CallBinding | undefined> {
    const row = this.db
      .prepare<[string], BindingRow>('SELECT * FROM bindings WHERE call_id = ? ORDER BY updated_at DESC LIMIT 1')
      .get(callId);
    return row && toBinding(row);
  }

  async saveBinding(b: CallBinding): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO bindings (conversation_id, provider, call_id, call_name, organizer_user_id, state, meeting_id, join_url, tenant_id, service_url, created_at, updated_at)
         VALUES (@conversationId, @provider, @callId, @callName, @organizerUserId, @state, @meetingId, @joinUrl, @tenantId, @serviceUrl, @createdAt, @updatedAt)
         ON CONFLICT (conversation_id) DO UPDATE SET provider = excluded.provider, call_id = excluded.call_id,
           call_name = excluded.call_name, organizer_user_id = excluded.organizer_user_id, state = excluded.state, meeting_id = excluded.meeting_id, join_url = excluded.join_url,
           tenant_id = excluded.tenant_id, service_url = excluded.service_url, created_at = excluded.created_at,
           updated_at = excluded.updated_at`,
      )
      .run({
        conversationId: b.conversationId,
        provider: b.provider,
        callId: b.callId,
        callName: b.callName ?? null,
        organizerUserId: b.organizerUserId ?? null,
        state: b.state,
        meetingId: b.meetingId ?? null,
        joinUrl: b.joinUrl ?? null,
        tenantId: b.tenantId ?? null,
        serviceUrl: b.serviceUrl ?? null,
        createdAt: b.createdAt,
        updatedAt: b.updatedAt,
      });
  }

  async setCallState(callId: string, state: CallState, at: string): Promise<CallBinding | undefined> {
    const row = this.db
      .prepare<[string, string, string], BindingRow>(
        'UPDATE bindings SET state = ?, updated_at = ? WHERE call_id = ? RETURNING *',
      )
      .get(state, at, callId);
    if (state === 'terminated') this.db.prepare('DELETE FROM roster WHERE call_id = ?').run(callId);
    return row && toBinding(row);
  }

  async upsertParticipants(callId: string, participants: Participant[]): Promise<void> {
    const stmt = this.db.prepare(
      `INSERT INTO roster (call_id, participant_id, kind, identity_id, display_name, tenant_id, is_in_lobby, label, phone_numbers)
       VALUES (@callId, @participantId, @kind, @identityId, @displayName, @tenantId, @isInLobby, @label, @phoneNumbers)
       ON CONFLICT (call_id, participant_id) DO UPDATE SET kind = excluded.kind, identity_id = excluded.identity_id,
         display_name = COALESCE(excluded.display_name, roster.display_name), tenant_id = excluded.tenant_id,
         is_in_lobby = excluded.is_in_lobby, label = COALESCE(excluded.label, roster.label),
         phone_numbers = CASE WHEN excluded.phone_numbers = '[]' THEN roster.phone_numbers ELSE excluded.phone_numbers END`,
    );
    this.db.transaction((list: Participant[]) => {
      for (const p of list) {
        stmt.run({
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
    })(participants);
  }

  async removeParticipants(callId: string, participantIds: string[]): Promise<void> {
    const stmt = this.db.prepare('DELETE FROM roster WHERE call_id = ? AND participant_id = ?');
    this.db.transaction((ids: string[]) => {
      for (const id of ids) stmt.run(callId, id);
    })(participantIds);
  }

  async replaceRoster(callId: string, participants: Participant[]): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM roster WHERE call_id = ?').run(callId);
    })();
    await this.upsertParticipants(callId, participants);
  }

  async listRoster(callId: string): Promise<Participant[]> {
    return this.db
      .prepare<[string], RosterRow>('SELECT * FROM roster WHERE call_id = ? ORDER BY display_name, participant_id')
      .all(callId)
      .map((r) => ({
        callId: r.call_id,
        participantId: r.participant_id,
        kind: r.kind as Participant['kind'],
        identityId: opt(r.identity_id),
        displayName: opt(r.display_name),
        tenantId: opt(r.tenant_id),
        isInLobby: r.is_in_lobby === 1,
        label: opt(r.label),
        phoneNumbers: JSON.parse(r.phone_numbers) as string[],
      }));
  }

  async openCase(input: NewCase, result?: CaseResult, at?: string): Promise<number> {
    const info = this.db
      .prepare(
        `INSERT INTO cases (created_at, completed_at, status, source, action, request_id, conversation_id, call_id,
           actor_user_id, actor_chat_id, actor_name, target_user_id, target_chat_id, target_name, participant_ids,
           reason, outcome, detail)
         VALUES (@createdAt, @completedAt, @status, @source, @action, @requestId, @conversationId, @callId,
           @actorUserId, @actorChatId, @actorName, @targetUserId, @targetChatId, @targetName, @participantIds,
           @reason, @outcome, @detail)`,
      )
      .run({
        createdAt: input.createdAt,
        completedAt: result ? (at ?? input.createdAt) : null,
        status: result ? 'completed' : 'pending',
        source: input.source,
        action: input.action,
        requestId: input.requestId,
        conversationId: input.conversationId ?? null,
        callId: result?.callId ?? input.callId ?? null,
        actorUserId: input.actorUserId ?? null,
        actorChatId: input.actorChatId ?? null,
        actorName: input.actorName ?? null,
        targetUserId: input.targetUserId ?? null,
        targetChatId: input.targetChatId ?? null,
        targetName: input.targetName ?? null,
        participantIds: JSON.stringify(result?.participantIds ?? input.participantIds ?? []),
        reason: input.reason ?? null,
        outcome: result?.outcome ?? null,
        detail: JSON.stringify({ ...input.detail, ...result?.detail }),
      });
    return Number(info.lastInsertRowid);
  }

  async closeCase(id: number, result: CaseResult, at: string): Promise<void> {
    const info = this.db
      .prepare(
        `UPDATE cases SET status = 'completed', completed_at = @at, outcome = @outcome,
           call_id = COALESCE(@callId, call_id), participant_ids = COALESCE(@participantIds, participant_ids),
           detail = json_patch(detail, @detail)
         WHERE id = @id AND status = 'pending'`,
      )
      .run({
        id,
        at,
        outcome: result.outcome,
        callId: result.callId ?? null,
        participantIds: result.participantIds ? JSON.stringify(result.participantIds) : null,
        detail: JSON.stringify(result.detail ?? {}),
      });
    if (info.changes !== 1) throw new BouncerError('STORE_FAILED', `case ${id} is not pending`);
  }

  async getCase(id: number): Promise<AuditCase | undefined> {
    const row = this.db.prepare<[number], CaseRow>('SELECT * FROM cases WHERE id = ?').get(id);
    return row && toCase(row);
  }

  async listCases(query: { conversationId?: string; limit: number }): Promise<AuditCase[]> {
    const rows =
      query.conversationId === undefined
        ? this.db.prepare<[number], CaseRow>('SELECT * FROM cases ORDER BY id DESC LIMIT ?').all(query.limit)
        : this.db
            .prepare<[string, number], CaseRow>('SELECT * FROM cases WHERE conversation_id = ? ORDER BY id DESC LIMIT ?')
            .all(query.conversationId, query.limit);
    return rows.map(toCase);
  }

  async claimIdempotencyKey(key: string, requestHash: string, at: string, expiresAt: string): Promise<IdempotencyRecord | undefined> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM idempotency_keys WHERE expires_at <= ?').run(at);
      const inserted = this.db
        .prepare(
          `INSERT INTO idempotency_keys (key, request_hash, state, created_at, expires_at) VALUES (?, ?, 'pending', ?, ?)
           ON CONFLICT (key) DO NOTHING`,
        )
        .run(key, requestHash, at, expiresAt);
      return inserted.changes === 1 ? undefined : this.readIdempotencyKey(key);
    }).immediate();
  }

  async completeIdempotencyKey(key: string, response: StoredResponse): Promise<void> {
    this.db
      .prepare(`UPDATE idempotency_keys SET state = 'done', response_status = ?, response_body = ? WHERE key = ?`)
      .run(response.status, JSON.stringify(response.body ?? null), key);
  }

  async releaseIdempotencyKey(key: string): Promise<void> {
    this.db.prepare(`DELETE FROM idempotency_keys WHERE key = ? AND state = 'pending'`).run(key);
  }

  async getIdempotencyKey(key: string): Promise<IdempotencyRecord | undefined> {
    return this.readIdempotencyKey(key);
  }

  private readIdempotencyKey(key: string): IdempotencyRecord | undefined {
    const row = this.db
      .prepare<[string], { key: string; request_hash: string; state: 'pending' | 'done'; response_status: number | null; response_body: string | null; created_at: string; expires_at: string }>(
        'SELECT * FROM idempotency_keys WHERE key = ?',
      )
      .get(key);
    if (!row) return undefined;
    return {
      key: row.key,
      requestHash: row.request_hash,
      state: row.state,
      response: row.response_status === null ? undefined : { status: row.response_status, body: JSON.parse(row.response_body ?? 'null') as unknown },
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    };
  }

  async ping(): Promise<void> {
    this.db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let i = version; i < MIGRATIONS.length; i++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[i]!);
      db.pragma(`user_version = ${i + 1}`);
    })();
  }
}

function toBinding(r: BindingRow): CallBinding {
  return {
    conversationId: r.conversation_id,
    provider: r.provider as CallBinding['provider'],
    callId: r.call_id,
    callName: opt(r.call_name),
    organizerUserId: opt(r.organizer_user_id),
    state: r.state as CallState,
    meetingId: opt(r.meeting_id),
    joinUrl: opt(r.join_url),
    tenantId: opt(r.tenant_id),
    serviceUrl: opt(r.service_url),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function toCase(r: CaseRow): AuditCase {
  return {
    id: r.id,
    createdAt: r.created_at,
    completedAt: opt(r.completed_at),
    status: r.status,
    source: r.source as AuditCase['source'],
    action: r.action as AuditCase['action'],
    requestId: r.request_id,
    conversationId: opt(r.conversation_id),
    callId: opt(r.call_id),
    actorUserId: opt(r.actor_user_id),
    actorChatId: opt(r.actor_chat_id),
    actorName: opt(r.actor_name),
    targetUserId: opt(r.target_user_id),
    targetChatId: opt(r.target_chat_id),
    targetName: opt(r.target_name),
    participantIds: JSON.parse(r.participant_ids) as string[],
    reason: opt(r.reason),
    outcome: opt(r.outcome) as AuditCase['outcome'],
    detail: JSON.parse(r.detail) as Record<string, unknown>,
  };
}
