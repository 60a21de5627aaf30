import type { Ban, BanIdentity, BanStore, NewBan } from '../../app/ports/store.js';
import { identityKey, normalizedIdentity } from '../row-schemas.js';
import { BAN_COLUMNS, banReader } from '../rows/bans.js';
import { postgresColumns } from './columns.js';
import { jsonParam, type Database } from './database.js';

const toBan = banReader(postgresColumns);

/**
 * Bans: the `bans` table, and `ban_identities`, which indexes each by scope and identity key;
 * shared by every instance. Lists of scopes and identities are passed as text arrays.
 */
export class PostgresBanStore implements BanStore {
  private readonly sql: { insert: string; insertIdentities: string; byCase: string; matching: string; inScopes: string; lift: string };

  constructor(private readonly db: Database) {
    const { bans, banIdentities: identities } = db.tables;
    // Active at $n: neither lifted nor expired.
    const active = (n: number) => `lifted_at IS NULL AND (expires_at IS NULL OR expires_at > $${n})`;
    this.sql = {
      insert: `INSERT INTO ${bans} (case_id, scope, identities, target_name, reason, created_by, created_by_name, created_at, expires_at)
         VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, $9)`,
      insertIdentities: `INSERT INTO ${identities} (case_id, scope, identity) SELECT $1, $2, unnest($3::text[]) ON CONFLICT DO NOTHING`,
      byCase: `SELECT ${BAN_COLUMNS} FROM ${bans} WHERE case_id = $1`,
      matching: `SELECT ${BAN_COLUMNS} FROM ${bans} WHERE case_id IN (
           SELECT case_id FROM ${identities} WHERE scope = ANY($1::text[]) AND identity = ANY($2::text[])
         ) AND ${active(3)} ORDER BY created_at, case_id`,
      inScopes: `SELECT ${BAN_COLUMNS} FROM ${bans} WHERE scope = ANY($1::text[]) AND ${active(2)}
         ORDER BY created_at DESC, case_id DESC LIMIT $3`,
      lift: `UPDATE ${bans} SET lifted_at = $1, lifted_by = $2, lift_case_id = $3 WHERE case_id = $4 AND ${active(1)}`,
    };
  }

  async add(ban: NewBan): Promise<void> {
    const identities = ban.identities.map(normalizedIdentity);
    await this.db.transaction('add a ban', async (tx) => {
      await tx.query(this.sql.insert, [
        ban.caseId,
        ban.scope,
        jsonParam(identities),
        ban.targetName ?? null,
        ban.reason ?? null,
        ban.createdBy?.toLowerCase() ?? null,
        ban.createdByName ?? null,
        ban.createdAt,
        ban.expiresAt ?? null,
      ]);
      await tx.query(this.sql.insertIdentities, [ban.caseId, ban.scope, identities.map(identityKey)]);
    });
  }

  async get(caseId: number): Promise<Ban | undefined> {
    const rows = await this.db.read('read a ban', this.sql.byCase, [caseId]);
    return rows[0] === undefined ? undefined : toBan(rows[0]);
  }

  async findActive(scopes: readonly string[], identities: readonly BanIdentity[], at: string): Promise<Ban[]> {
    if (scopes.length === 0 || identities.length === 0) return [];
    const rows = await this.db.read('find bans', this.sql.matching, [[...scopes], identities.map(identityKey), at]);
    return rows.map(toBan);
  }

  async listActive(scopes: readonly string[], at: string, limit: number): Promise<Ban[]> {
    if (scopes.length === 0) return [];
    const rows = await this.db.read('list bans', this.sql.inScopes, [[...scopes], at, limit]);
    return rows.map(toBan);
  }

  async lift(caseId: number, lift: { at: string; by?: string; caseId?: number }): Promise<boolean> {
    const result = await this.db.write('lift a ban', this.sql.lift, [lift.at, lift.by?.toLowerCase() ?? null, lift.caseId ?? null, caseId]);
    return (result.rowCount ?? 0) > 0;
  }
}
