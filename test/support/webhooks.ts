import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * The headers of a request signed as a Standard Webhooks sender signs it (the `standardwebhooks`
 * package, not Bouncer's own code), with a JSON content type.
 */
export function signedHeaders(secret: string, raw: string, opts: { id?: string; at?: Date } = {}): Record<string, string> {
  const id = opts.id ?? `msg_${randomBytes(8).toString('hex')}`;
  const at = opts.at ?? new Date();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(id, at, raw),
  };
}
