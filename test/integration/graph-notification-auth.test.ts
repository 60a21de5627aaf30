import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { APP_ID, startHarness, type Harness } from '../support/harness.js';

// The calling platform signs many notifications with one token: Bouncer checks a token's RS256
// signature once and takes the same token again until it expires (issue 12: the webhook kick's
// cost), never a token that failed, never one past its expiry and the clock tolerance (5 min).

describe('Graph notification tokens on /api/calls', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await h.close();
  });

  // A notification about a call Bouncer does not know: authenticated, then ignored (202).
  const payload = { value: [{ changeType: 'updated', resource: '/communications/calls/unknown-call', resourceData: { '@odata.type': '#microsoft.graph.call', state: 'established' } }] };
  async function post(token: string): Promise<number> {
    const res = await fetch(`${h.bouncer.url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(payload),
    });
    await res.arrayBuffer();
    return res.status;
  }
  const sign = (claims: Record<string, unknown> = {}) => h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID, ...claims });

  it("checks a token's signature once for many notifications; every other token is checked on its own", async () => {
    const token = await sign();
    expect(await post(token)).toBe(202); // the signing keys are fetched now
    const verify = vi.spyOn(globalThis.crypto.subtle, 'verify');
    expect(await post(token)).toBe(202);
    expect(await post(token)).toBe(202);
    expect(verify).toHaveBeenCalledTimes(0); // remembered from the first notification

    const other = await sign({ jti: 'another' });
    expect(await post(other)).toBe(202);
    expect(verify).toHaveBeenCalledTimes(1);

    // The same header and claims with a signature that does not match: refused, every time.
    const [head, body] = token.split('.');
    const forged = `${head}.${body}.${(await sign({ jti: 'x' })).split('.')[2]}`;
    expect(await post(forged)).toBe(401);
    expect(await post(forged)).toBe(401);
    expect(verify).toHaveBeenCalledTimes(3);
    // Other audiences and expired tokens are refused as before.
    expect(await post(await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: 'someone-else' }))).toBe(401);
    expect(await post(await sign({ expiresInSec: -400 }))).toBe(401);
  });

  it('takes a remembered token only until its expiry and the clock tolerance', async () => {
    // Expired 299 s ago: within the 300 s tolerance for one more second.
    const token = await sign({ expiresInSec: -299 });
    expect(await post(token)).toBe(202);
    expect(await post(token)).toBe(202);
    await new Promise((r) => setTimeout(r, 2_100));
    expect(await post(token)).toBe(401);
  });
});
