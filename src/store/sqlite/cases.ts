import type Database from 'better-sqlite3';
import { BouncerError } from '../../app/domain/errors.js';
import type { AuditCase, CaseCompletionWrites, CaseResult, CaseStore, NewCase, NewReasonEdit, ReasonEdit } from '../../app/ports/store.js';
import { CASE_COLUMNS as COLUMNS, caseReaders } from '../rows/cases.js';
import { sqliteColumns } from './columns.js';
import type { SqliteIdempotencyStore } from './idempotency.js';
import type { SqliteRosterStore } from './roster.js';
import { WriteGuard } from './write-guard.js';

const { toCase, toReasonEdit } = caseReaders(sqliteColumns);

type Params = Record<string, string | number | null>;

/** The audit log: the `cases` table. */
export class SqliteCaseStore implements CaseStore {
  private readonly insert: Database.Statement<[Params]>;
  private readonly complete: Database.Statement<[Params]>;
  private readonly byId: Database.Statement<[number]>;
  private readonly newest: Database.Statement<[number]>;
  private readonly pendingBefore: Database.Statement<[string, number]>;
  private readonly newestOfConversation: Database.Statement<[string, number]>;
  private readonly newestAgainstUser: Database.Statement<[string, number]>;
  private readonly newestAgainstChatId: Database.Statement<[string, number]>;
  private readonly newestAgainstEither: Database.Statement<[string, string, number]>;
  private readonly reasonOf: Database.Statement<[number]>;
  private readonly setReason: Database.Statement<[string, number]>;
  private readonly insertEdit: Database.Statement<[Params]>;
  private readonly editsOf: Database.Statement<[number]>;
  private readonly edit: (caseId: number, edit: NewReasonEdit) => { found: true; previous?: string } | { found: false };
  private readonly closeTx: (params: Params, writes: CaseCompletionWrites | undefined) => boolean;

  constructor(
    db: Database.Database,
    /** The aggregates a case's completion writes to as well (`close`'s `writes`), in its transaction. */
    completion: { roster: SqliteRosterStore; idempotency: SqliteIdempotencyStore },
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.insert = db.prepare(
      `INSERT INTO cases (created_at, completed_at, status, source, action, request_id, conversation_id, call_id,
         actor_user_id, actor_chat_id, actor_name, target_user_id, target_chat_id, target_name, participant_ids,
         reason, outcome, detail)
       VALUES (@createdAt, @completedAt, @status, @source, @action, @requestId, @conversationId, @callId,
         @actorUserId, @actorChatId, @actorName, @targetUserId, @targetChatId, @targetName, @participantIds,
         @reason, @outcome, @detail)`,
    );
    // The result's call id and participants win; without them, the ones the case was opened with stay.
    this.complete = db.prepare(
      `UPDATE cases SET status = 'completed', completed_at = @at, outcome = @outcome,
         call_id = COALESCE(@callId, call_id), participant_ids = COALESCE(@participantIds, participant_ids),
         detail = json_patch(detail, @detail)
       WHERE id = @id AND status = 'pending'`,
    );
    this.byId = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE id = ?`);
    this.pendingBefore = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE status = 'pending' AND created_at <= ? ORDER BY id LIMIT ?`);
    this.newest = db.prepare(`SELECT ${COLUMNS} FROM cases ORDER BY id DESC LIMIT ?`);
    this.newestOfConversation = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE conversation_id = ? ORDER BY id DESC LIMIT ?`);
    this.newestAgainstUser = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE target_user_id = ? ORDER BY id DESC LIMIT ?`);
    this.newestAgainstChatId = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE target_chat_id = ? ORDER BY id DESC LIMIT ?`);
    // Each side of the OR has its own index (SQLite's OR optimization).
    this.newestAgainstEither = db.prepare(`SELECT ${COLUMNS} FROM cases WHERE target_user_id = ? OR target_chat_id = ? ORDER BY id DESC LIMIT ?`);
    this.reasonOf = db.prepare('SELECT reason FROM cases WHERE id = ?');
    this.setReason = db.prepare('UPDATE cases SET reason = ? WHERE id = ?');
    this.insertEdit = db.prepare(
      `INSERT INTO case_reason_edits (case_id, seq, previous, reason, edited_at, edited_by, edited_by_name, edit_case_id)
       VALUES (@caseId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM case_reason_edits WHERE case_id = @caseId),
         @previous, @reason, @editedAt, @editedBy, @editedByName, @editCaseId)`,
    );
    this.editsOf = db.prepare(
      'SELECT case_id, previous, reason, edited_at, edited_by, edited_by_name, edit_case_id FROM case_reason_edits WHERE case_id = ? ORDER BY seq',
    );
    this.edit = db.transaction((caseId: number, edit: NewReasonEdit) => {
      const row = this.reasonOf.get(caseId) as { reason: string | null } | undefined;
      if (!row) return { found: false as const };
      this.insertEdit.run({
        caseId,
        previous: row.reason,
        reason: edit.reason,
        editedAt: edit.editedAt,
        editedBy: edit.editedBy?.toLowerCase() ?? null,
        editedByName: edit.editedByName ?? null,
        editCaseId: edit.editCaseId,
      });
      this.setReason.run(edit.reason, caseId);
      return { found: true as const, ...(row.reason === null ? {} : { previous: row.reason }) };
    });
    // A case that is not pending is left as it is, and so is everything else (nothing was written).
    this.closeTx = db.transaction((params: Params, writes: CaseCompletionWrites | undefined): boolean => {
      if (this.complete.run(params).changes !== 1) return false;
      const removed = writes?.rosterRemoved;
      if (removed) completion.roster.removeNow(removed.callId, removed.participantIds);
      const kept = writes?.idempotency;
      if (kept) {
        const { response } = kept;
        for (const key of kept.keys) {
          if (response) completion.idempotency.completeNow(key, response);
          else completion.idempotency.releaseNow(key);
        }
      }
      return true;
    });
  }

  async open(input: NewCase, result?: CaseResult, at?: string): Promise<number> {
    const info = await this.guard.run('open a case', () => this.insert.run({
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
      targetUserId: input.targetUserId?.toLowerCase() ?? null,
      targetChatId: input.targetChatId ?? null,
      targetName: input.targetName ?? null,
      participantIds: JSON.stringify(result?.participantIds ?? input.participantIds ?? []),
      reason: input.reason ?? null,
      outcome: result?.outcome ?? null,
      detail: JSON.stringify({ ...input.detail, ...result?.detail }),
    }));
    return Number(info.lastInsertRowid);
  }

  async close(id: number, result: CaseResult, at: string, writes?: CaseCompletionWrites): Promise<void> {
    const params: Params = {
      id,
      at,
      outcome: result.outcome,
      callId: result.callId ?? null,
      participantIds: result.participantIds ? JSON.stringify(result.participantIds) : null,
      detail: JSON.stringify(result.detail ?? {}),
    };
    // Without other writes the one statement is atomic by itself.
    const closed = await this.guard.run('complete a case', () => (writes ? this.closeTx(params, writes) : this.complete.run(params).changes === 1));
    if (!closed) throw new BouncerError('STORE_FAILED', `case ${id} is not pending`);
  }

  async get(id: number): Promise<AuditCase | undefined> {
    const row = this.byId.get(id);
    return row === undefined ? undefined : toCase(row);
  }

  async listPending(openedBefore: string, limit: number): Promise<AuditCase[]> {
    return this.pendingBefore.all(openedBefore, limit).map(toCase);
  }

  async list(query: { conversationId?: string; limit: number }): Promise<AuditCase[]> {
    const rows =
      query.conversationId === undefined
        ? this.newest.all(query.limit)
        : this.newestOfConversation.all(query.conversationId, query.limit);
    return rows.map(toCase);
  }

  async listByTarget(query: { userId?: string; chatId?: string; limit: number }): Promise<AuditCase[]> {
    const userId = query.userId?.toLowerCase();
    const { chatId, limit } = query;
    const rows =
      userId !== undefined && chatId !== undefined
        ? this.newestAgainstEither.all(userId, chatId, limit)
        : userId !== undefined
          ? this.newestAgainstUser.all(userId, limit)
          : chatId !== undefined
            ? this.newestAgainstChatId.all(chatId, limit)
            : [];
    return rows.map(toCase);
  }

  async editReason(caseId: number, edit: NewReasonEdit): Promise<{ found: true; previous?: string } | { found: false }> {
    return this.guard.run("edit a case's reason", () => this.edit(caseId, edit));
  }

  async reasonEdits(caseId: number): Promise<ReasonEdit[]> {
    return this.editsOf.all(caseId).map(toReasonEdit);
  }
}
