import { z } from 'zod';
import type { ModLogChannel } from '../../app/ports/store.js';
import { optional, rowReader } from '../row-schemas.js';

/** The columns of the `modlog_channels` table both stores read: text only, read alike. */
export const MODLOG_COLUMNS = 'conversation_id, reply_address, tenant_id, added_by, added_at';

const channelRow = z
  .object({
    conversation_id: z.string(),
    reply_address: z.string(),
    tenant_id: optional(z.string()),
    added_by: optional(z.string()),
    added_at: z.string(),
  })
  .transform(
    (r): ModLogChannel => ({
      conversationId: r.conversation_id,
      replyAddress: r.reply_address,
      tenantId: r.tenant_id,
      addedBy: r.added_by,
      addedAt: r.added_at,
    }),
  );

/** A `modlog_channels` row read by either store. */
export const toModLogChannel: (row: unknown) => ModLogChannel = rowReader(channelRow, 'modlog_channels');
