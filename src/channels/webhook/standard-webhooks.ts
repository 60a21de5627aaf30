import { createHmac, timingSafeEqual } from 'node:crypto';

/** Standard Webhooks' default tolerance for webhook-timestamp, both ways. */
export const TIMESTAMP_TOLERANCE_SEC = 5 * 60;

export interface SignedRequest {
  id: string | undefined;
  timestamp: string | undefined;
  signature: string | undefined;
  /** The raw body, exactly as received. */
  body: Buffer;
}

/**
 * Verifies a request signed per the Standard Webhooks specification
 * (https://www.standardwebhooks.com): `webhook-signature` holds space-separated `v1,<base64>`
 * entries, each an HMAC-SHA256 of `${id}.${timestamp}.${body}` keyed with a secret's bytes
 * (`whsec_<base64>`). Any configured secret may match (rotation); comparison is constant-time;
 * the timestamp must be within the tolerance. Returns which secret signed a valid request (its
 * index in `secrets`), or undefined for anything else.
 */
export function verifyStandardWebhook(req: SignedRequest, secrets: readonly string[], nowSec: number): number | undefined {
  const { id, timestamp, signature } = req;
  if (!id || !timestamp || !signature || secrets.length === 0) return undefined;
  if (!/^\d{1,12}$/.test(timestamp)) return undefined;
  if (Math.abs(nowSec - Number(timestamp)) > TIMESTAMP_TOLERANCE_SEC) return undefined;
  const offered = signature
    .split(' ')
    .map((entry) => /^v1,([A-Za-z0-9+/]+={0,2})$/.exec(entry)?.[1])
    .filter((sig): sig is string => sig !== undefined)
    .map((sig) => Buffer.from(sig, 'base64'));
  if (offered.length === 0) return undefined;
  const signedPrefix = `${id}.${timestamp}.`;
  let matched: number | undefined;
  keysOf(secrets).forEach((key, index) => {
    const expected = createHmac('sha256', key).update(signedPrefix, 'utf8').update(req.body).digest();
    for (const sig of offered) {
      // Compare every pair (no early exit), each in constant time.
      if (sig.length === expected.length && timingSafeEqual(sig, expected)) matched ??= index;
    }
  });
  return matched;
}

/** Each secret's key bytes, decoded once per list of secrets (a route keeps its list for its lifetime). */
const decodedKeys = new WeakMap<readonly string[], readonly Buffer[]>();

function keysOf(secrets: readonly string[]): readonly Buffer[] {
  let keys = decodedKeys.get(secrets);
  if (!keys) {
    keys = secrets.map((secret) => Buffer.from(secret.replace(/^whsec_/, ''), 'base64'));
    decodedKeys.set(secrets, keys);
  }
  return keys;
}
