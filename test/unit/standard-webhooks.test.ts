import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TIMESTAMP_TOLERANCE_SEC, verifyStandardWebhook } from '../../src/channels/webhook/standard-webhooks.js';
import { signedHeaders } from '../support/webhooks.js';

const secret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** A request as Bouncer's routes see it, signed by the `standardwebhooks` package. */
function signed(key: string, body: string, at = new Date()) {
  const h = signedHeaders(key, body, { at });
  return { id: h['webhook-id'], timestamp: h['webhook-timestamp'], signature: h['webhook-signature'], body: Buffer.from(body, 'utf8') };
}

describe('verifyStandardWebhook', () => {
  const now = Math.floor(Date.now() / 1000);

  it('names the secret that signed the request, over every call with the same list (rotation: any may match)', () => {
    const [a, b] = [secret(), secret()];
    const secrets = [a, b];
    for (let i = 0; i < 3; i++) {
      expect(verifyStandardWebhook(signed(b, '{"n":1}'), secrets, now)).toBe(1);
      expect(verifyStandardWebhook(signed(a, '{"n":2}'), secrets, now)).toBe(0);
    }
    expect(verifyStandardWebhook(signed(a, '{"n":2}'), [b], now)).toBeUndefined();
  });

  it('refuses a changed body, id or timestamp, and a timestamp outside the tolerance', () => {
    const key = secret();
    const good = signed(key, '{"target":"x"}');
    expect(verifyStandardWebhook(good, [key], now)).toBe(0);
    expect(verifyStandardWebhook({ ...good, body: Buffer.from('{"target":"y"}') }, [key], now)).toBeUndefined();
    expect(verifyStandardWebhook({ ...good, id: `${good.id}x` }, [key], now)).toBeUndefined();
    expect(verifyStandardWebhook({ ...good, timestamp: String(Number(good.timestamp) + 1) }, [key], now)).toBeUndefined();
    const old = signed(key, '{}', new Date((now - TIMESTAMP_TOLERANCE_SEC - 5) * 1000));
    expect(verifyStandardWebhook(old, [key], now)).toBeUndefined();
    expect(verifyStandardWebhook({ ...good, signature: undefined }, [key], now)).toBeUndefined();
  });

  it('verifies the bytes received, not their UTF-8 decoding', () => {
    const key = secret();
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]); // {"a":"<0xff>"}
    const id = 'msg_bytes';
    const timestamp = String(now);
    const mac = createHmac('sha256', Buffer.from(key.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.`).update(bytes).digest('base64');
    const request = { id, timestamp, signature: `v1,${mac}`, body: bytes };
    expect(verifyStandardWebhook(request, [key], now)).toBe(0);
    expect(verifyStandardWebhook({ ...request, body: Buffer.from(bytes.toString('utf8'), 'utf8') }, [key], now)).toBeUndefined();
  });
});
