import { z } from 'zod';
import type { CallBinding } from '../../app/domain/participant.js';
import { callState, optional, rowReader } from '../row-schemas.js';

/**
 * The columns of the `bindings` table, in the order both stores select them (SQLite's old
 * service_url column, before its migration 5, is left alone). Every one is text in both drivers.
 */
export const BINDING_COLUMNS = `conversation_id, provider, call_id, call_name, organizer_user_id, state, meeting_id, join_url,
  tenant_id, reply_address, created_at, updated_at`;

const bindingRow = z
  .object({
    conversation_id: z.string(),
    provider: z.string(),
    call_id: z.string(),
    call_name: optional(z.string()),
    organizer_user_id: optional(z.string()),
    state: callState,
    meeting_id: optional(z.string()),
    join_url: optional(z.string()),
    tenant_id: optional(z.string()),
    reply_address: optional(z.string()),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .transform(
    (r): CallBinding => ({
      conversationId: r.conversation_id,
      provider: r.provider,
      callId: r.call_id,
      callName: r.call_name,
      organizerUserId: r.organizer_user_id,
      state: r.state,
      meetingId: r.meeting_id,
      joinUrl: r.join_url,
      tenantId: r.tenant_id,
      replyAddress: r.reply_address,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    }),
  );

const readBinding = rowReader(bindingRow, 'bindings');

/** A `bindings` row read by either store (no row: undefined). */
export const toBinding = (row: unknown): CallBinding | undefined => (row === undefined ? undefined : readBinding(row));
