import { z } from 'zod';
import { BouncerError } from '../../app/domain/errors.js';
import type { AuditCase, CaseCompletionWrites, CaseResult, CaseStore, NewCase, NewReasonEdit, ReasonEdit } from '../../app/ports/store.js';
import { parseRow } from '../row-schemas.js';
import { CASE_COLUMNS as COLUMNS, caseReaders } from '../rows/cases.js';
import { postgresColumns } from './columns.js';
import { jsonParam, type Database } from './database.js';

/** A case number: the identity column is a bigint (see postgresColumns.id). */
const caseId = postgresColumns.id;
const { toCase, toReasonEdit } = caseReaders(postgresColumns);

/** The audit log: the `cases` table. Case numbers come from its identity column (one sequence for every instance). */
export class PostgresCaseStore implements CaseStore {
  private readonly sql: {
    insert: string;
    complete: string;
    completeWith: string;
    byId: string;
    pendingBefore: string;
    newest: string;
    newestOfConversation: string;
    newestAgainst: string;
    lockReason: string;
    setReason: string;
    insertEdit: string;
    editsOf: string;
  };

  constructor(private readonly db: Database) {
    const { cases, mergePatch, caseReasonEdits, roster, idempotencyKeys } = db.tables;
    this.sql = {
      insert: `INSERT INTO ${cases} (created_at, completed_at, status, source, action, request_id, conversation_id, call_id,
           actor_user_id, actor_chat_id, actor_name, target_user_id, target_chat_id, target_name, participant_ids,
           reason, outcome, detail)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18::jsonb)
         RETURNING id`,
      // The result's call id and participants win; without them, the ones the case was opened with
      // stay. The detail is merged as SQLite's json_patch merges it.
      complete: `UPDATE ${cases} SET status = 'completed', completed_at = $2, outcome = $3,
           call_id = COALESCE($4, call_id), participant_ids = COALESCE($5::jsonb, participant_ids),
           detail = ${mergePatch}(detail, $6::jsonb)
         WHERE id = $1 AND status = 'pending'`,
      // The completion and what the change came to, in one statement (one round trip, atomic): the
      // roster rows ($7, $8) and the idempotency keys ($9: kept with the response $10, $11, or
      // without one given up) are written only when the case was pending.
      completeWith: `WITH closed AS (
           UPDATE ${cases} SET status = 'completed', completed_at = $2, outcome = $3,
             call_id = COALESCE($4, call_id), participant_ids = COALESCE($5::jsonb, participant_ids),
             detail = ${mergePatch}(detail, $6::jsonb)
           WHERE id = $1 AND status = 'pending' RETURNING id),
         gone AS (
           DELETE FROM ${roster} WHERE call_id = $7 AND participant_id = ANY($8::text[]) AND EXISTS (SELECT 1 FROM closed)),
         kept AS (
           UPDATE ${idempotencyKeys} SET state = 'done', response_status = $10, response_body = $11::json
           WHERE key = ANY($9::text[]) AND $10::int IS NOT NULL AND EXISTS (SELECT 1 FROM closed)),
         released AS (
           DELETE FROM ${idempotencyKeys} WHERE key = ANY($9::text[]) AND state = 'pending' AND $10::int IS NULL AND EXISTS (SELECT 1 FROM closed))
         SELECT count(*)::int AS closed FROM closed`,
      byId: `SELECT ${COLUMNS} FROM ${cases} WHERE id = $1`,
      pendingBefore: `SELECT ${COLUMNS} FROM ${cases} WHERE status = 'pending' AND created_at <= $1 ORDER BY id LIMIT $2`,
      newest: `SELECT ${COLUMNS} FROM ${cases} ORDER BY id DESC LIMIT $1`,
      newestOfConversation: `SELECT ${COLUMNS} FROM ${cases} WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2`,
      // A null side matches nothing; each side has its own index (a BitmapOr).
      newestAgainst: `SELECT ${COLUMNS} FROM ${cases} WHERE target_user_id = $1 OR target_chat_id = $2 ORDER BY id DESC LIMIT $3`,
      // The case's row is locked while its history grows: two edits at once number theirs in turn.
      lockReason: `SELECT reason FROM ${cases} WHERE id = $1 FOR UPDATE`,
      setReason: `UPDATE ${cases} SET reason = $2 WHERE id = $1`,
      insertEdit: `INSERT INTO ${caseReasonEdits} (case_id, seq, previous, reason, edited_at, edited_by, edited_by_name, edit_case_id)
         VALUES ($1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM ${caseReasonEdits} WHERE case_id = $1), $2, $3, $4, $5, $6, $7)`,
      editsOf: `SELECT case_id, previous, reason, edited_at, edited_by, edited_by_name, edit_case_id FROM ${caseReasonEdits}
         WHERE case_id = $1 ORDER BY seq`,
    };
  }

  async open(input: NewCase, result?: CaseResult, at?: string): Promise<number> {
    const { rows } = await this.db.write<{ id: unknown }>('open a case', this.sql.insert, [
      input.createdAt,
      result ? (at ?? input.createdAt) : null,
      result ? 'completed' : 'pending',
      input.source,
      input.action,
      input.requestId,
      input.conversationId ?? null,
      result?.callId ?? input.callId ?? null,
      input.actorUserId ?? null,
      input.actorChatId ?? null,
      input.actorName ?? null,
      input.targetUserId?.toLowerCase() ?? null,
      input.targetChatId ?? null,
      input.targetName ?? null,
      jsonParam(result?.participantIds ?? input.participantIds ?? []),
      input.reason ?? null,
      result?.outcome ?? null,
      jsonParam({ ...input.detail, ...result?.detail }),
    ]);
    return parseRow(z.object({ id: caseId }), rows[0], 'cases').id;
  }

  async close(id: number, result: CaseResult, at: string, writes?: CaseCompletionWrites): Promise<void> {
    const params = [
      id,
      at,
      result.outcome,
      result.callId ?? null,
      result.participantIds ? jsonParam(result.participantIds) : null,
      jsonParam(result.detail ?? {}),
    ];
    let closed: boolean;
    if (!writes) {
      closed = (await this.db.write('complete a case', this.sql.complete, params)).rowCount === 1;
    } else {
      const removed = writes.rosterRemoved;
      const kept = writes.idempotency;
      const response = kept?.response;
      const { rows } = await this.db.write('complete a case', this.sql.completeWith, [
        ...params,
        removed?.callId ?? null,
        removed?.participantIds ?? [],
        kept?.keys ?? [],
        response?.status ?? null,
        response ? jsonParam(response.body ?? null) : null,
      ]);
      closed = parseRow(z.object({ closed: z.number().int() }), rows[0], 'cases').closed === 1;
    }
    if (!closed) throw new BouncerError('STORE_FAILED', `case ${id} is not pending`);
  }

  async get(id: number): Promise<AuditCase | undefined> {
    // No case has a number the bigint column cannot hold (SQLite answers "none" for these too).
    if (!Number.isSafeInteger(id)) return undefined;
    const rows = await this.db.read('read a case', this.sql.byId, [id]);
    return rows[0] === undefined ? undefined : toCase(rows[0]);
  }

  async listPending(openedBefore: string, limit: number): Promise<AuditCase[]> {
    return (await this.db.read('list pending cases', this.sql.pendingBefore, [openedBefore, limit])).map(toCase);
  }

  async list(query: { conversationId?: string; limit: number }): Promise<AuditCase[]> {
    const rows =
      query.conversationId === undefined
        ? await this.db.read('list cases', this.sql.newest, [query.limit])
        : await this.db.read('list cases', this.sql.newestOfConversation, [query.conversationId, query.limit]);
    return rows.map(toCase);
  }

  async listByTarget(query: { userId?: string; chatId?: string; limit: number }): Promise<AuditCase[]> {
    if (query.userId === undefined && query.chatId === undefined) return [];
    const rows = await this.db.read('list cases', this.sql.newestAgainst, [query.userId?.toLowerCase() ?? null, query.chatId ?? null, query.limit]);
    return rows.map(toCase);
  }

  async editReason(id: number, edit: NewReasonEdit): Promise<{ found: true; previous?: string } | { found: false }> {
    if (!Number.isSafeInteger(id)) return { found: false };
    return this.db.transaction("edit a case's reason", async (tx) => {
      const { rows } = await tx.query<{ reason: string | null }>(this.sql.lockReason, [id]);
      const row = rows[0];
      if (!row) return { found: false as const };
      await tx.query(this.sql.insertEdit, [id, row.reason, edit.reason, edit.editedAt, edit.editedBy?.toLowerCase() ?? null, edit.editedByName ?? null, edit.editCaseId]);
      await tx.query(this.sql.setReason, [id, edit.reason]);
      return { found: true as const, ...(row.reason === null ? {} : { previous: row.reason }) };
    });
  }

  async reasonEdits(id: number): Promise<ReasonEdit[]> {
    if (!Number.isSafeInteger(id)) return [];
    const rows = await this.db.read("read a case's reason edits", this.sql.editsOf, [id]);
    return rows.map(toReasonEdit);
  }
}
