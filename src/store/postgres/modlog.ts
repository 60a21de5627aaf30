import type { ModLogChannel, ModLogStore } from '../../app/ports/store.js';
import { MODLOG_COLUMNS, toModLogChannel } from '../rows/modlog.js';
import type { Database } from './database.js';

/** The mod-log channels: the `modlog_channels` table, one row per chat, read by every instance. */
export class PostgresModLogStore implements ModLogStore {
  private readonly sql: { upsert: string; delete: string; all: string };

  constructor(private readonly db: Database) {
    const { modlogChannels } = db.tables;
    this.sql = {
      // Its address may have changed (a new service URL): the latest wins; who added it first stays.
      // xmax = 0 only for a row this statement inserted.
      upsert: `INSERT INTO ${modlogChannels} AS c (conversation_id, reply_address, tenant_id, added_by, added_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (conversation_id) DO UPDATE SET reply_address = excluded.reply_address, tenant_id = COALESCE(excluded.tenant_id, c.tenant_id)
         RETURNING (xmax = 0) AS inserted`,
      delete: `DELETE FROM ${modlogChannels} WHERE conversation_id = $1`,
      all: `SELECT ${MODLOG_COLUMNS} FROM ${modlogChannels} ORDER BY added_at, seq`,
    };
  }

  async add(c: ModLogChannel): Promise<boolean> {
    const { rows } = await this.db.write<{ inserted: boolean }>('add a mod-log channel', this.sql.upsert, [
      c.conversationId,
      c.replyAddress,
      c.tenantId ?? null,
      c.addedBy?.toLowerCase() ?? null,
      c.addedAt,
    ]);
    return rows[0]?.inserted === true;
  }

  async remove(conversationId: string): Promise<boolean> {
    const result = await this.db.write('remove a mod-log channel', this.sql.delete, [conversationId]);
    return (result.rowCount ?? 0) > 0;
  }

  async list(): Promise<ModLogChannel[]> {
    const rows = await this.db.read('list mod-log channels', this.sql.all);
    return rows.map(toModLogChannel);
  }
}
