import type Database from 'better-sqlite3';
import type { ModeratorStore, NamedModerator } from '../../app/ports/store.js';
import { MODERATOR_COLUMNS, toModerator } from '../rows/moderators.js';
import { WriteGuard } from './write-guard.js';

/** Named moderators: the `moderators` table, one row per chat and person. */
export class SqliteModeratorStore implements ModeratorStore {
  private readonly insert: Database.Statement<[string, string, string | null, string | null, string]>;
  private readonly delete: Database.Statement<[string, string]>;
  private readonly exists: Database.Statement<[string, string]>;
  private readonly byChat: Database.Statement<[string]>;

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.insert = db.prepare(
      `INSERT INTO moderators (conversation_id, user_id, display_name, added_by, added_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id, user_id) DO NOTHING`,
    );
    this.delete = db.prepare('DELETE FROM moderators WHERE conversation_id = ? AND user_id = ?');
    this.exists = db.prepare('SELECT 1 AS found FROM moderators WHERE conversation_id = ? AND user_id = ?');
    this.byChat = db.prepare(`SELECT ${MODERATOR_COLUMNS} FROM moderators WHERE conversation_id = ? ORDER BY added_at, rowid`);
  }

  async add(m: NamedModerator): Promise<boolean> {
    const userId = m.userId.toLowerCase();
    return this.guard.run('name a moderator', () => this.insert.run(m.conversationId, userId, m.displayName ?? null, m.addedBy?.toLowerCase() ?? null, m.addedAt).changes > 0);
  }

  async remove(conversationId: string, userId: string): Promise<boolean> {
    return this.guard.run('remove a moderator', () => this.delete.run(conversationId, userId.toLowerCase()).changes > 0);
  }

  async has(conversationId: string, userId: string): Promise<boolean> {
    return this.exists.get(conversationId, userId.toLowerCase()) !== undefined;
  }

  async list(conversationId: string): Promise<NamedModerator[]> {
    return this.byChat.all(conversationId).map(toModerator);
  }
}
