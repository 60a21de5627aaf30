import { z } from 'zod';
import type { ColumnReaders } from '../row-schemas.js';

/** How node-postgres returns the columns that SQLite returns otherwise (see ColumnReaders). */
export const postgresColumns: ColumnReaders = {
  // A bigint column: node-postgres reads int8 as text, so that no digit is lost; a number (an
  // integer column or expression) is taken as it is. Either must be a safe, non-negative integer.
  id: z
    .union([z.number(), z.string().regex(/^\d+$/).transform(Number)])
    .pipe(z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER)),
  flag: z.boolean(),
  // json and jsonb come parsed by node-postgres: only checked here. (The schema itself; TypeScript
  // does not see that a generic T's output is z.output<T>.)
  json: <T extends z.ZodType>(schema: T) => schema as z.ZodType<z.output<T>>,
};
