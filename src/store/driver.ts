import type { Store } from '../app/ports/store.js';

/** What a DATABASE_URL that fits no driver, or fits one badly, is answered with. */
export interface UrlProblem {
  problem: string;
}

/**
 * One kind of store. The list in drivers.ts is the only place that knows which exist; a new
 * kind (PostgreSQL) is a folder with its Store and its driver, plus one line in that list.
 */
export interface StoreDriver<Location extends { kind: string } = { kind: string }> {
  /** The `kind` of the locations it parses ('sqlite'). */
  readonly name: Location['kind'];
  /** How a DATABASE_URL for it is written, for messages ('sqlite:<path>'). */
  readonly example: string;
  /** Whether `url` is meant for this driver (by scheme, or because it is a plain path). */
  matches(url: string): boolean;
  /** Where the store is (plain data, kept in the configuration), or what is wrong with `url`. */
  parse(url: string, cwd: string): Location | UrlProblem;
  open(location: Location): Promise<Store>;
}

/**
 * `url` as it may be printed (messages, logs): the password of a `user:password@` in it replaced by
 * `***`. Everything from the user's colon to the last `@` goes, so that a password holding an `@`,
 * `/` or `#` that was not percent-encoded leaks nothing either (a few characters too many may go).
 */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*):.*@/g, '$1:***@');
}
