import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';

// Issue 11, item 17: Graph's join errors 7504 (tenant permissions) and 7505 (tenant mismatch) are
// explained in the chat, audited with their hint, and nobody is removed.
describe("Graph's join errors 7504 and 7505, through the real server", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const refuseJoin = (code: string, message: string) =>
    h.graph.script('POST', /^\/communications\/calls$/, [{ status: 403, headers: { 'request-id': `req-${code}` }, body: { error: { code, message } } }]);

  it('7504: the kick that needed the join says the tenant has not granted the calling permission', async () => {
    refuseJoin('7504', 'Insufficient enterprise tenant permissions, cannot access this API.');
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    const reply = h.lastReply();
    expect(reply).toContain('(request-id req-7504)');
    expect(reply).toContain('error 7504: insufficient tenant permissions');
    expect(reply).toContain('Calls.JoinGroupCall.All');
    expect(reply).toMatch(/Nobody was removed\. Case #1\.$/);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
    expect(JSON.parse(String(h.cases()[0]!.detail))).toMatchObject({ hint: 'join-tenant-permissions' });
  });

  it('7505: /bind says the meeting belongs to another tenant', async () => {
    refuseJoin('7505', 'Request denied due to tenant mismatch.');
    await h.send(PEOPLE.olivia, '/bind', []);
    const reply = h.lastReply();
    expect(reply).toContain('error 7505: tenant mismatch');
    expect(reply).toContain('another tenant');
    expect(JSON.parse(String(h.cases()[0]!.detail))).toMatchObject({ hint: 'join-tenant-mismatch' });
  });

  it('another join refusal gets no tenant hint', async () => {
    refuseJoin('Forbidden', 'nope');
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).not.toContain('tenant');
  });
});
