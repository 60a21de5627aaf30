import { z } from 'zod';
import type { Lockdown } from '../../app/ports/store.js';
import { jsonObject, optional, requestSource, rowReader, type ColumnReaders } from '../row-schemas.js';

/** The columns of the `lockdowns` table, in the order both stores select them. */
export const LOCKDOWN_COLUMNS =
  'provider, call_key, call_id, conversation_id, case_id, source, chat, mute, meeting_organizer, meeting_id, saved, started_at, started_by';

/**
 * A lockdown's values in LOCKDOWN_COLUMNS order, as both stores write them, given how the driver
 * writes booleans (`flag`: SQLite 1/0, PostgreSQL booleans) and JSON (`json`: SQLite's TEXT as it
 * is, PostgreSQL's jsonb, which refuses a NUL, through jsonParam).
 */
export function lockdownValues(l: Lockdown, write: { flag: (value: boolean) => boolean | number; json: (value: unknown) => string }): unknown[] {
  const { flag } = write;
  return [
    l.provider,
    l.callKey,
    l.callId,
    l.conversationId ?? null,
    l.caseId,
    l.source,
    flag(l.chat),
    flag(l.mute),
    l.meeting?.organizerUserId ?? null,
    l.meeting?.meetingId ?? null,
    l.saved === undefined ? null : write.json(l.saved),
    l.startedAt,
    l.startedBy?.toLowerCase() ?? null,
  ];
}

const meetingRef = z.object({ organizerUserId: z.string(), meetingId: z.string() });

/**
 * A `lockdowns` row; chat and mute (booleans) and saved (a JSON object, or NULL) are read as the
 * driver reads them (`columns`: SQLite's 0/1 and text, PostgreSQL's booleans and parsed jsonb).
 */
function lockdownRow(columns: ColumnReaders) {
  return z
    .object({
      provider: z.string(),
      call_key: z.string(),
      call_id: z.string(),
      conversation_id: optional(z.string()),
      case_id: z.coerce.number().int(),
      source: requestSource,
      chat: columns.flag,
      mute: columns.flag,
      meeting_organizer: optional(z.string()),
      meeting_id: optional(z.string()),
      saved: columns.json(jsonObject).nullable(),
      started_at: z.string(),
      started_by: optional(z.string()),
    })
    .transform(
      (r): Lockdown => ({
        provider: r.provider,
        callKey: r.call_key,
        callId: r.call_id,
        conversationId: r.conversation_id,
        caseId: r.case_id,
        source: r.source,
        chat: r.chat,
        mute: r.mute,
        meeting: r.meeting_organizer !== undefined && r.meeting_id !== undefined ? meetingRef.parse({ organizerUserId: r.meeting_organizer, meetingId: r.meeting_id }) : undefined,
        saved: r.saved ?? undefined,
        startedAt: r.started_at,
        startedBy: r.started_by,
      }),
    );
}

/** The reader of a driver's `lockdowns` rows. */
export const lockdownReader = (columns: ColumnReaders): ((row: unknown) => Lockdown) => rowReader(lockdownRow(columns), 'lockdowns');
