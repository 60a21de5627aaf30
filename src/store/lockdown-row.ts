import { z } from 'zod';
import type { Lockdown } from '../app/ports/store.js';
import { jsonObject, optional, requestSource } from './row-schemas.js';

/** The columns of the `lockdowns` table, in the order both stores select them. */
export const LOCKDOWN_COLUMNS =
  'provider, call_key, call_id, conversation_id, case_id, source, chat, mute, meeting_organizer, meeting_id, saved, started_at, started_by';

const meetingRef = z.object({ organizerUserId: z.string(), meetingId: z.string() });

/**
 * A `lockdowns` row as both stores read it: SQLite gives booleans as 0/1 and JSON as text,
 * PostgreSQL gives booleans and parsed jsonb; `saved` arrives as `unknown` and is checked here.
 */
export function lockdownRow(flag: z.ZodType<boolean>, json: z.ZodType<Record<string, unknown> | null>) {
  return z
    .object({
      provider: z.string(),
      call_key: z.string(),
      call_id: z.string(),
      conversation_id: optional(z.string()),
      case_id: z.coerce.number().int(),
      source: requestSource,
      chat: flag,
      mute: flag,
      meeting_organizer: optional(z.string()),
      meeting_id: optional(z.string()),
      saved: json,
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

export const savedOptions = jsonObject.nullable();
