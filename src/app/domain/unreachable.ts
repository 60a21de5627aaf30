import { BouncerError } from './errors.js';

/**
 * Ends an exhaustive switch: `value` has type `never` only when every case is handled, so a new
 * outcome (or action, or notice) kind fails the typecheck here until it is.
 */
export function unreachable(value: never, what = 'value'): never {
  throw new BouncerError('INTERNAL', `unhandled ${what}: ${JSON.stringify(value)}`);
}
