import type { DatabaseConfig } from '../config/config.js';
import type { Store } from '../core/ports.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

/** Builds the Store named by the configuration. Adding PostgreSQL is one branch here. */
export function openStore(config: DatabaseConfig): Store {
  switch (config.kind) {
    case 'sqlite':
      return SqliteStore.open(config.path);
  }
}
