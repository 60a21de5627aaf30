import type Database from 'better-sqlite3';
import type { Lockdown, LockdownStore } from '../../app/ports/store.js';
import { LOCKDOWN_COLUMNS, lockdownReader, lockdownValues } from '../rows/lockdowns.js';
import { sqliteColumns } from './columns.js';
import { WriteGuard } from './write-guard.js';

const toLockdown = lockdownReader(sqliteColumns);

/** Lockdowns: the `lockdowns` table, one row per call key while its lockdown is on. */
export class SqliteLockdownStore implements LockdownStore {
  private readonly upsert: Database.Statement<unknown[]>;
  private readonly byKey: Database.Statement<[string, string]>;
  private readonly remove: Database.Statement<[string, string]>;

  constructor(
    private readonly db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    // An existing lockdown keeps everything but gains chat and mute when asked: the first saved options stay.
    this.upsert = db.prepare(
      `INSERT INTO lockdowns (${LOCKDOWN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (provider, call_key) DO UPDATE SET chat = max(chat, excluded.chat), mute = max(mute, excluded.mute)
       RETURNING ${LOCKDOWN_COLUMNS}, case_id = ? AS mine`,
    );
    this.byKey = db.prepare(`SELECT ${LOCKDOWN_COLUMNS} FROM lockdowns WHERE provider = ? AND call_key = ?`);
    this.remove = db.prepare(`DELETE FROM lockdowns WHERE provider = ? AND call_key = ? RETURNING ${LOCKDOWN_COLUMNS}`);
  }

  async begin(l: Lockdown): Promise<{ started: boolean; lockdown: Lockdown }> {
    return this.guard.run('start a lockdown', () => {
      // The values, then the case id again (`mine`).
      const result = this.upsert.get(...lockdownValues(l, { flag: (b) => (b ? 1 : 0), json: (v) => JSON.stringify(v) }), l.caseId) as Record<string, unknown>;
      const { mine, ...rest } = result;
      return { started: mine === 1, lockdown: toLockdown(rest) };
    });
  }

  async find(provider: string, callKeys: readonly string[]): Promise<Lockdown | undefined> {
    for (const key of callKeys) {
      const found = this.byKey.get(provider, key);
      if (found) return toLockdown(found);
    }
    return undefined;
  }

  async end(provider: string, callKey: string): Promise<Lockdown | undefined> {
    return this.guard.run('end a lockdown', () => {
      const found = this.remove.get(provider, callKey);
      return found ? toLockdown(found) : undefined;
    });
  }
}
