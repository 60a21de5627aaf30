import type Database from 'better-sqlite3';
import type { Ban, BanIdentity, BanStore, NewBan } from '../../app/ports/store.js';
import { identityKey, normalizedIdentity } from '../row-schemas.js';
import { BAN_COLUMNS, banReader } from '../rows/bans.js';
import { sqliteColumns } from './columns.js';
import { WriteGuard } from './write-guard.js';

const toBan = banReader(sqliteColumns);

/** Active at `?` (the time, the statement's last parameter). */
const ACTIVE = 'lifted_at IS NULL AND (expires_at IS NULL OR expires_at > ?)';

/**
 * Bans: the `bans` table, and `ban_identities`, which indexes each by scope and identity key.
 * Lists of scopes and identities are passed as one JSON parameter each (no limit on their length).
 */
export class SqliteBanStore implements BanStore {
  private readonly db: Database.Database;
  private readonly insert: Database.Statement<[Record<string, string | number | null>]>;
  private readonly insertIdentity: Database.Statement<[number, string, string]>;
  private readonly byCase: Database.Statement<[number]>;
  private readonly matching: Database.Statement<[string, string, string]>;
  private readonly inScopes: Database.Statement<[string, string, number]>;
  private readonly liftOne: Database.Statement<[string, string | null, number | null, number, string]>;

  constructor(
    db: Database.Database,
    private readonly guard: WriteGuard = new WriteGuard(),
  ) {
    this.db = db;
    this.insert = db.prepare(
      `INSERT INTO bans (case_id, scope, identities, target_name, reason, created_by, created_by_name, created_at, expires_at)
       VALUES (@caseId, @scope, @identities, @targetName, @reason, @createdBy, @createdByName, @createdAt, @expiresAt)`,
    );
    this.insertIdentity = db.prepare('INSERT OR IGNORE INTO ban_identities (case_id, scope, identity) VALUES (?, ?, ?)');
    this.byCase = db.prepare(`SELECT ${BAN_COLUMNS} FROM bans WHERE case_id = ?`);
    this.matching = db.prepare(
      `SELECT ${BAN_COLUMNS} FROM bans WHERE case_id IN (
         SELECT case_id FROM ban_identities
         WHERE scope IN (SELECT value FROM json_each(?)) AND identity IN (SELECT value FROM json_each(?))
       ) AND ${ACTIVE} ORDER BY created_at, case_id`,
    );
    this.inScopes = db.prepare(
      `SELECT ${BAN_COLUMNS} FROM bans WHERE scope IN (SELECT value FROM json_each(?)) AND ${ACTIVE}
       ORDER BY created_at DESC, case_id DESC LIMIT ?`,
    );
    this.liftOne = db.prepare(`UPDATE bans SET lifted_at = ?, lifted_by = ?, lift_case_id = ? WHERE case_id = ? AND ${ACTIVE}`);
  }

  async add(ban: NewBan): Promise<void> {
    const identities = ban.identities.map(normalizedIdentity);
    await this.guard.run('add a ban', () =>
      this.db.transaction(() => {
        this.insert.run({
          caseId: ban.caseId,
          scope: ban.scope,
          identities: JSON.stringify(identities),
          targetName: ban.targetName ?? null,
          reason: ban.reason ?? null,
          createdBy: ban.createdBy?.toLowerCase() ?? null,
          createdByName: ban.createdByName ?? null,
          createdAt: ban.createdAt,
          expiresAt: ban.expiresAt ?? null,
        });
        for (const i of identities) this.insertIdentity.run(ban.caseId, ban.scope, identityKey(i));
      })(),
    );
  }

  async get(caseId: number): Promise<Ban | undefined> {
    const row = this.byCase.get(caseId);
    return row === undefined ? undefined : toBan(row);
  }

  async findActive(scopes: readonly string[], identities: readonly BanIdentity[], at: string): Promise<Ban[]> {
    if (scopes.length === 0 || identities.length === 0) return [];
    return this.matching.all(JSON.stringify(scopes), JSON.stringify(identities.map(identityKey)), at).map(toBan);
  }

  async listActive(scopes: readonly string[], at: string, limit: number): Promise<Ban[]> {
    if (scopes.length === 0) return [];
    return this.inScopes.all(JSON.stringify(scopes), at, limit).map(toBan);
  }

  async lift(caseId: number, lift: { at: string; by?: string; caseId?: number }): Promise<boolean> {
    return this.guard.run('lift a ban', () => this.liftOne.run(lift.at, lift.by?.toLowerCase() ?? null, lift.caseId ?? null, caseId, lift.at).changes > 0);
  }
}
