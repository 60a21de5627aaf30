import path from 'node:path';
import { redactUrl, type StoreDriver } from '../driver.js';

/** A SQLite database: a file path (absolute), or ':memory:'. */
export interface SqliteLocation {
  kind: 'sqlite';
  path: string;
}

/** Any `scheme://…` prefix. */
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * `sqlite:<path>`, `sqlite://<path>`, `file:<path>`, a plain path (relative to the working
 * directory), `:memory:` or `sqlite::memory:`.
 */
export const sqliteDriver: StoreDriver<SqliteLocation> = {
  name: 'sqlite',
  example: 'sqlite:<path>',
  matches: (url) => /^(?:sqlite|file):/i.test(url) || !SCHEME.test(url),
  parse(url, cwd) {
    if (url === ':memory:' || url === 'sqlite::memory:') return { kind: 'sqlite', path: ':memory:' };
    const match = /^(?:sqlite|file):(?:\/\/)?(.+)$/i.exec(url);
    const file = match ? match[1]! : url;
    if (SCHEME.test(file)) return { problem: `DATABASE_URL: unsupported scheme in "${redactUrl(url)}"; use sqlite:<path>` };
    return { kind: 'sqlite', path: path.resolve(cwd, file) };
  },
  // Loaded on first use, so that reading the configuration does not load the native module.
  async open(location) {
    const { SqliteStore } = await import('./sqlite-store.js');
    return SqliteStore.open(location.path);
  },
};
