import { z } from 'zod';

/** A variable that may be unset; surrounding spaces are dropped and a blank value counts as unset. */
export const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

/** An absolute http(s) URL, without trailing slashes; the message names the variable. */
export const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      message: `${name} must be an absolute http(s) URL`,
    })
    .transform((v) => v.replace(/\/+$/, ''));

/**
 * A part's own slice of the environment, parsed from the raw values, or undefined when one of its
 * variables is invalid (the whole schema has already listed that problem). Lets a provider's
 * configure step read typed values whether or not other parts of the environment are valid.
 */
export function readSlice<S extends z.ZodObject>(slice: S, given: Readonly<Record<string, string>>): z.output<S> | undefined {
  const parsed = slice.safeParse(given);
  return parsed.success ? parsed.data : undefined;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Whether a URL points at this machine (sandbox mode allows nothing else). */
export function isLoopback(value: string): boolean {
  return URL.canParse(value) && LOOPBACK_HOSTS.has(new URL(value).hostname);
}
