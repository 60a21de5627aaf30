import { z } from 'zod';
import type { Ban } from '../../app/ports/store.js';
import { banIdentities, optional, rowReader, type ColumnReaders } from '../row-schemas.js';

/** The columns of the `bans` table, in the order both stores select them. */
export const BAN_COLUMNS = `case_id, scope, identities, target_name, reason, created_by, created_by_name, created_at, expires_at,
  lifted_at, lifted_by, lift_case_id`;

/** A `bans` row; the case ids and the identities are read as the driver reads them (`columns`). */
function banRow(columns: ColumnReaders) {
  return z
    .object({
      case_id: columns.id,
      scope: z.string(),
      identities: columns.json(banIdentities),
      target_name: optional(z.string()),
      reason: optional(z.string()),
      created_by: optional(z.string()),
      created_by_name: optional(z.string()),
      created_at: z.string(),
      expires_at: optional(z.string()),
      lifted_at: optional(z.string()),
      lifted_by: optional(z.string()),
      lift_case_id: optional(columns.id),
    })
    .transform(
      (r): Ban => ({
        caseId: r.case_id,
        scope: r.scope,
        identities: r.identities,
        targetName: r.target_name,
        reason: r.reason,
        createdBy: r.created_by,
        createdByName: r.created_by_name,
        createdAt: r.created_at,
        expiresAt: r.expires_at,
        liftedAt: r.lifted_at,
        liftedBy: r.lifted_by,
        liftCaseId: r.lift_case_id,
      }),
    );
}

/** The reader of a driver's `bans` rows. */
export const banReader = (columns: ColumnReaders): ((row: unknown) => Ban) => rowReader(banRow(columns), 'bans');
