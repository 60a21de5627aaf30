import { z } from 'zod';
import type { NamedModerator } from '../../app/ports/store.js';
import { rowReader } from '../row-schemas.js';

/** The columns of the `moderators` table both stores read: text only, read alike. */
export const MODERATOR_COLUMNS = 'conversation_id, user_id, display_name, added_by, added_at';

const moderatorRow = z
  .object({
    conversation_id: z.string(),
    user_id: z.string(),
    display_name: z.string().nullable(),
    added_by: z.string().nullable(),
    added_at: z.string(),
  })
  .transform(
    (r): NamedModerator => ({
      conversationId: r.conversation_id,
      userId: r.user_id,
      displayName: r.display_name ?? undefined,
      addedBy: r.added_by ?? undefined,
      addedAt: r.added_at,
    }),
  );

/** A `moderators` row read by either store. */
export const toModerator: (row: unknown) => NamedModerator = rowReader(moderatorRow, 'moderators');
