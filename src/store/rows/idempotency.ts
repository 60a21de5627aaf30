import { z } from 'zod';
import type { IdempotencyRecord } from '../../app/ports/store.js';
import { idempotencyState, rowReader, type ColumnReaders } from '../row-schemas.js';

/** The columns of the `idempotency_keys` table, in the order both stores select them. */
export const IDEMPOTENCY_COLUMNS = 'key, request_hash, state, response_status, response_body, created_at, expires_at';

/** An `idempotency_keys` row; the stored response body (any JSON, or NULL) is read as the driver reads JSON (`columns`). */
function idempotencyRow(columns: ColumnReaders) {
  return z
    .object({
      key: z.string(),
      request_hash: z.string(),
      state: idempotencyState,
      response_status: z.number().int().nullable(),
      response_body: columns.json(z.unknown()).nullable(),
      created_at: z.string(),
      expires_at: z.string(),
    })
    .transform(
      (r): IdempotencyRecord => ({
        key: r.key,
        requestHash: r.request_hash,
        state: r.state,
        // A stored body of NULL reads as null, as JSON.stringify(undefined ?? null) wrote it.
        response: r.response_status === null ? undefined : { status: r.response_status, body: r.response_body ?? null },
        createdAt: r.created_at,
        expiresAt: r.expires_at,
      }),
    );
}

/** The reader of a driver's `idempotency_keys` rows. */
export const idempotencyReader = (columns: ColumnReaders): ((row: unknown) => IdempotencyRecord) => rowReader(idempotencyRow(columns), 'idempotency_keys');
