import { z } from 'zod';
import type { AuditCase, ReasonEdit } from '../../app/ports/store.js';
import {
  caseStatus,
  jsonObject,
  moderationAction,
  optional,
  outcomeKind,
  requestSource,
  rowReader,
  stringList,
  type ColumnReaders,
} from '../row-schemas.js';

/** The columns of the `cases` table, in the order both stores select them. */
export const CASE_COLUMNS = `id, created_at, completed_at, status, source, action, request_id, conversation_id, call_id,
  actor_user_id, actor_chat_id, actor_name, target_user_id, target_chat_id, target_name, participant_ids,
  reason, outcome, detail`;

/** A `cases` row; the ids, participant_ids and detail are read as the driver reads them (`columns`). */
function caseRow(columns: ColumnReaders) {
  return z
    .object({
      id: columns.id,
      created_at: z.string(),
      completed_at: optional(z.string()),
      status: caseStatus,
      source: requestSource,
      action: moderationAction,
      request_id: z.string(),
      conversation_id: optional(z.string()),
      call_id: optional(z.string()),
      actor_user_id: optional(z.string()),
      actor_chat_id: optional(z.string()),
      actor_name: optional(z.string()),
      target_user_id: optional(z.string()),
      target_chat_id: optional(z.string()),
      target_name: optional(z.string()),
      participant_ids: columns.json(stringList),
      reason: optional(z.string()),
      outcome: optional(outcomeKind),
      detail: columns.json(jsonObject),
    })
    .transform(
      (r): AuditCase => ({
        id: r.id,
        createdAt: r.created_at,
        completedAt: r.completed_at,
        status: r.status,
        source: r.source,
        action: r.action,
        requestId: r.request_id,
        conversationId: r.conversation_id,
        callId: r.call_id,
        actorUserId: r.actor_user_id,
        actorChatId: r.actor_chat_id,
        actorName: r.actor_name,
        targetUserId: r.target_user_id,
        targetChatId: r.target_chat_id,
        targetName: r.target_name,
        participantIds: r.participant_ids,
        reason: r.reason,
        outcome: r.outcome,
        detail: r.detail,
      }),
    );
}

/** A `case_reason_edits` row. */
function reasonEditRow(columns: ColumnReaders) {
  return z
    .object({
      case_id: columns.id,
      previous: optional(z.string()),
      reason: z.string(),
      edited_at: z.string(),
      edited_by: optional(z.string()),
      edited_by_name: optional(z.string()),
      edit_case_id: columns.id,
    })
    .transform(
      (r): ReasonEdit => ({
        caseId: r.case_id,
        previous: r.previous,
        reason: r.reason,
        editedAt: r.edited_at,
        editedBy: r.edited_by,
        editedByName: r.edited_by_name,
        editCaseId: r.edit_case_id,
      }),
    );
}

/** The readers of a driver's `cases` and `case_reason_edits` rows (each throws STORE_FAILED on a row that does not fit). */
export function caseReaders(columns: ColumnReaders) {
  return {
    toCase: rowReader(caseRow(columns), 'cases'),
    toReasonEdit: rowReader(reasonEditRow(columns), 'case_reason_edits'),
  };
}
