import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { ModLogChannel, ModLogStore } from '../../app/ports/store.js';
import { optional, parseRow } from '../row-schemas.js';
import { WriteGuard } from './write-guard.js';

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
    this.all = db.prepare('SELECT conversation_id, reply_address, tenant_id, added_by, added_at FROM modlog_channels ORDER BY added_at, rowid');
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
    return this.all.all().map((row) => parseRow(channelRow, row, 'modlog_channels'));
  }
}
