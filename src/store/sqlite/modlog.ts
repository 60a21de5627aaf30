import type Database from 'better-sqlite3';
import type { ModLogChannel, ModLogStore } from '../../app/ports/store.js';
import { MODLOG_COLUMNS, toModLogChannel } from '../rows/modlog.js';
import { WriteGuard } from './write-guard.js';

/** The mod-log channels: the `modlog_channels` table, one row per chat. */
export class SqliteModLogStore implements ModLogStore {
  private readonly exists: Database.Statement<[string]>;
  private readonly upsert: Database.Statement<[string, string, string | null, string | null, string]>;
  private readonly delete: Database.Statement<[string]>;
  private readonly all: Database.Statement<[]>;
  private readonly save: (channel: ModLogChannel) => boolean;

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.exists = db.prepare('SELECT 1 AS found FROM modlog_channels WHERE conversation_id = ?');
    // Its address may have changed (a new service URL): the latest wins; who added it first stays.
    this.upsert = db.prepare(
      `INSERT INTO modlog_channels (conversation_id, reply_address, tenant_id, added_by, added_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (conversation_id) DO UPDATE SET reply_address = excluded.reply_address, tenant_id = COALESCE(excluded.tenant_id, tenant_id)`,
    );
    this.delete = db.prepare('DELETE FROM modlog_channels WHERE conversation_id = ?');
    this.all = db.prepare(`SELECT ${MODLOG_COLUMNS} FROM modlog_channels ORDER BY added_at, rowid`);
    this.save = db.transaction((c: ModLogChannel) => {
      const was = this.exists.get(c.conversationId) !== undefined;
      this.upsert.run(c.conversationId, c.replyAddress, c.tenantId ?? null, c.addedBy?.toLowerCase() ?? null, c.addedAt);
      return !was;
    });
  }

  async add(channel: ModLogChannel): Promise<boolean> {
    return this.guard.run('add a mod-log channel', () => this.save(channel));
  }

  async remove(conversationId: string): Promise<boolean> {
    return this.guard.run('remove a mod-log channel', () => this.delete.run(conversationId).changes > 0);
  }

  async list(): Promise<ModLogChannel[]> {
    return this.all.all().map(toModLogChannel);
  }
}
