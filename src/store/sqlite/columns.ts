import { z } from 'zod';
import { jsonText, type ColumnReaders } from '../row-schemas.js';

/** How better-sqlite3 returns the columns that PostgreSQL returns otherwise (see ColumnReaders). */
export const sqliteColumns: ColumnReaders = {
  // INTEGER comes back as a number (safe integers: no column is read with safeIntegers).
  id: z.number().int(),
  // SQLite has no boolean: 0 or 1, and nothing else.
  flag: z.union([z.literal(0), z.literal(1)]).transform((v) => v === 1),
  // JSON is stored as TEXT, parsed here.
  json: (schema) => jsonText(schema),
};
