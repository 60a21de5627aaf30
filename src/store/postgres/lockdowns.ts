import type { Lockdown, LockdownStore } from '../../app/ports/store.js';
import { LOCKDOWN_COLUMNS, lockdownReader, lockdownValues } from '../rows/lockdowns.js';
import { postgresColumns } from './columns.js';
import { jsonParam, type Database } from './database.js';

const toLockdown = lockdownReader(postgresColumns);

/** Lockdowns: the `lockdowns` table, one row per call key while its lockdown is on, shared by every instance. */
export class PostgresLockdownStore implements LockdownStore {
  private readonly sql: { upsert: string; byKey: string; remove: string };

  constructor(private readonly db: Database) {
    const { lockdowns } = db.tables;
    this.sql = {
      // An existing lockdown keeps everything but gains chat and mute when asked: the first saved options stay.
      upsert: `INSERT INTO ${lockdowns} AS l (${LOCKDOWN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13)
         ON CONFLICT (provider, call_key) DO UPDATE SET chat = l.chat OR excluded.chat, mute = l.mute OR excluded.mute
         RETURNING ${LOCKDOWN_COLUMNS}, (case_id = $5) AS mine`,
      byKey: `SELECT ${LOCKDOWN_COLUMNS} FROM ${lockdowns} WHERE provider = $1 AND call_key = $2`,
      remove: `DELETE FROM ${lockdowns} WHERE provider = $1 AND call_key = $2 RETURNING ${LOCKDOWN_COLUMNS}`,
    };
  }

  async begin(l: Lockdown): Promise<{ started: boolean; lockdown: Lockdown }> {
    const result = await this.db.write<Record<string, unknown>>('start a lockdown', this.sql.upsert, lockdownValues(l, { flag: (b) => b, json: jsonParam }));
    const { mine, ...rest } = result.rows[0]!;
    return { started: mine === true, lockdown: toLockdown(rest) };
  }

  async find(provider: string, callKeys: readonly string[]): Promise<Lockdown | undefined> {
    for (const key of callKeys) {
      const rows = await this.db.read('read a lockdown', this.sql.byKey, [provider, key]);
      if (rows[0]) return toLockdown(rows[0]);
    }
    return undefined;
  }

  async end(provider: string, callKey: string): Promise<Lockdown | undefined> {
    const result = await this.db.write<Record<string, unknown>>('end a lockdown', this.sql.remove, [provider, callKey]);
    return result.rows[0] ? toLockdown(result.rows[0]) : undefined;
  }
}
