/**
 * The identifier rules of the house, defined once: the command grammar, the webhook schema and the
 * providers all use these.
 */

/** A phone number in E.164: `+`, country code, up to 15 digits (https://www.itu.int/rec/T-REC-E.164). */
export const E164_PATTERN = /^\+[1-9]\d{6,14}$/;

/** A Twilio CallSid: `CA` and 32 hex digits (https://www.twilio.com/docs/glossary/what-is-a-sid). */
export const CALL_SID_PATTERN = /^CA[0-9a-fA-F]{32}$/;

/** A Twilio ConferenceSid: `CF` and 32 hex digits. */
export const CONFERENCE_SID_PATTERN = /^CF[0-9a-fA-F]{32}$/;

/** A Twilio AccountSid: `AC` and 32 hex digits. */
export const ACCOUNT_SID_PATTERN = /^AC[0-9a-fA-F]{32}$/;

/** A Twilio API key SID: `SK` and 32 hex digits. */
export const API_KEY_SID_PATTERN = /^SK[0-9a-fA-F]{32}$/;

/** The longest participant label Bouncer accepts (Twilio allows up to 128 characters). */
export const LABEL_MAX_LENGTH = 128;

export function isE164(value: string): boolean {
  return E164_PATTERN.test(value);
}

export function isCallSid(value: string): boolean {
  return CALL_SID_PATTERN.test(value);
}

export function isConferenceSid(value: string): boolean {
  return CONFERENCE_SID_PATTERN.test(value);
}

/** SIDs are case-insensitive in their hex part; Bouncer keeps them as Twilio writes them (`CA` + lower-case hex). */
export function normalizeSid(sid: string): string {
  return `${sid.slice(0, 2).toUpperCase()}${sid.slice(2).toLowerCase()}`;
}

/**
 * Why a participant label cannot be used, or undefined when it can. Twilio addresses a participant
 * by label in the URL path, where a `/` cannot be expressed.
 */
export function labelProblem(label: string): 'empty' | 'slash' | 'too_long' | undefined {
  if (label.trim() === '') return 'empty';
  if (label.includes('/')) return 'slash';
  if (label.length > LABEL_MAX_LENGTH) return 'too_long';
  return undefined;
}

/** "+1 (555) 123-4567" → "+15551234567"; numbers without a country code cannot be placed. */
export function toE164(raw: string): string | undefined {
  const compact = raw.replace(/[\s().-]/g, '');
  return isE164(compact) ? compact : undefined;
}
