import { z } from 'zod';

/** A variable that may be unset; surrounding spaces are dropped and a blank value counts as unset. */
export const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

/** What else a URL variable must be, beyond an absolute http(s) URL, for Bouncer to work with it. */
export interface UrlRules {
  /**
   * 'always': https only. 'off-loopback': http only on this machine (the sandbox's protocol
   * servers), because credentials or signing keys travel over it.
   */
  https?: 'always' | 'off-loopback';
  /** Why https, said in the problem. */
  why?: string;
  /** Paths are appended to it: no query or fragment. */
  base?: boolean;
  /** Scheme, host and port only (a trailing slash is allowed). */
  originOnly?: boolean;
}

/** The problem with `value` as the URL variable `name`, or undefined when there is none. */
export function urlProblem(name: string, value: string, rules: UrlRules = {}): string | undefined {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) return `${name} must be an absolute http(s) URL`;
  const u = new URL(value);
  if (u.protocol === 'http:' && (rules.https === 'always' || (rules.https === 'off-loopback' && !isLoopback(value)))) {
    const where = rules.https === 'off-loopback' ? ' (http only on this machine: 127.0.0.1, ::1 or localhost)' : '';
    return `${name} must be an https URL${where}${rules.why ? `: ${rules.why}` : ''}`;
  }
  // `new URL` drops an empty `?` or `#`; the raw value still shows it.
  const queryOrFragment = u.search !== '' || u.hash !== '' || /[?#]/.test(value);
  if (rules.originOnly && (queryOrFragment || u.pathname.replace(/\/+$/, '') !== '')) {
    return `${name} must be an origin only (scheme, host and port), with no path, query or fragment`;
  }
  if (rules.base && queryOrFragment) return `${name} must not have a query or fragment: paths are appended to it`;
  return undefined;
}

/** An absolute http(s) URL that follows `rules`, without trailing slashes; the message names the variable. */
export const url = (name: string, rules: UrlRules = {}) =>
  z
    .string()
    .trim()
    .superRefine((v, ctx) => {
      const problem = urlProblem(name, v, rules);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .transform((v) => v.replace(/\/+$/, ''));

/** Like optionalString, but an absolute http(s) URL when set (kept as written, trailing slash included). */
export const optionalUrl = (name: string) =>
  optionalString.superRefine((v, ctx) => {
    const problem = v === undefined ? undefined : urlProblem(name, v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

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
