import type { ModeratorStore, NamedModerator } from '../../app/ports/store.js';
import { MODERATOR_COLUMNS, toModerator } from '../rows/moderators.js';
import type { Database } from './database.js';

/** Named moderators: the `moderators` table, one row per chat and person, shared by every instance. */
export class PostgresModeratorStore implements ModeratorStore {
  private readonly sql: { insert: string; delete: string; exists: string; byChat: string };

  constructor(private readonly db: Database) {
    const { moderators } = db.tables;
    this.sql = {
      insert: `INSERT INTO ${moderators} (conversation_id, user_id, display_name, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (conversation_id, user_id) DO NOTHING`,
      delete: `DELETE FROM ${moderators} WHERE conversation_id = $1 AND user_id = $2`,
      exists: `SELECT 1 AS found FROM ${moderators} WHERE conversation_id = $1 AND user_id = $2`,
      byChat: `SELECT ${MODERATOR_COLUMNS} FROM ${moderators} WHERE conversation_id = $1 ORDER BY added_at, seq`,
    };
  }

  async add(m: NamedModerator): Promise<boolean> {
    const result = await this.db.write('name a moderator', this.sql.insert, [
      m.conversationId,
      m.userId.toLowerCase(),
      m.displayName ?? null,
      m.addedBy?.toLowerCase() ?? null,
      m.addedAt,
    ]);
    return result.rowCount === 1;
  }

  async remove(conversationId: string, userId: string): Promise<boolean> {
    const result = await this.db.write('remove a moderator', this.sql.delete, [conversationId, userId.toLowerCase()]);
    return (result.rowCount ?? 0) > 0;
  }

  async has(conversationId: string, userId: string): Promise<boolean> {
    const rows = await this.db.read('read a moderator', this.sql.exists, [conversationId, userId.toLowerCase()]);
    return rows.length > 0;
  }

  async list(conversationId: string): Promise<NamedModerator[]> {
    const rows = await this.db.read('list moderators', this.sql.byChat, [conversationId]);
    return rows.map(toModerator);
  }
}
