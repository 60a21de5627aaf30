import { BouncerError } from '../app/domain/errors.js';
import type { Store } from '../app/ports/store.js';
import { driverOf, parseStoreUrl, type StoreLocation } from './drivers.js';

/**
 * Opens the store a DATABASE_URL names, with the driver its scheme picks (src/store/drivers.ts).
 * Relative paths are taken from `cwd`. Throws CONFIG_INVALID for a URL no driver takes, and
 * STORE_FAILED (with the cause) when the store cannot be opened.
 */
export async function openStore(databaseUrl: string, cwd: string): Promise<Store> {
  const location = parseStoreUrl(databaseUrl, cwd);
  if ('problem' in location) throw new BouncerError('CONFIG_INVALID', location.problem);
  return openStoreAt(location);
}

/** Opens the store at a location already parsed (the configuration's `database`). */
export async function openStoreAt(location: StoreLocation): Promise<Store> {
  return driverOf(location).open(location);
}
