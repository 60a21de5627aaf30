import { BouncerError } from '../app/domain/errors.js';
import { redactUrl, type StoreDriver, type UrlProblem } from './driver.js';
import { postgresDriver } from './postgres/driver.js';
import { sqliteDriver } from './sqlite/driver.js';

/** Every kind of store Bouncer can use; the first is the default. Adding one is one line here. */
export const STORE_DRIVERS = [sqliteDriver, postgresDriver] as const;

/** Where a store lives: the location of one of the drivers (DatabaseConfig in the configuration). */
export type StoreLocation = (typeof STORE_DRIVERS)[number] extends StoreDriver<infer L> ? L : never;

/** Turns a DATABASE_URL into the location of a store, or explains why it cannot. */
export function parseStoreUrl(url: string, cwd: string): StoreLocation | UrlProblem {
  const driver = STORE_DRIVERS.find((d) => d.matches(url));
  if (driver) return driver.parse(url, cwd);
  return { problem: `DATABASE_URL: unsupported scheme in "${redactUrl(url)}"; use ${STORE_DRIVERS.map((d) => d.example).join(' or ')}` };
}

/** The driver that parsed `location`. */
export function driverOf(location: StoreLocation): StoreDriver<StoreLocation> {
  const driver = STORE_DRIVERS.find((d) => d.name === location.kind);
  if (!driver) throw new BouncerError('INTERNAL', `no store driver is named ${location.kind}`);
  // The driver whose name is the location's kind parsed it, so it opens that kind of location.
  return driver as unknown as StoreDriver<StoreLocation>;
}
