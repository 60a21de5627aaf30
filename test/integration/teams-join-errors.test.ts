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

  it('/status names the setup steps missing until an action succeeds again', async () => {
    refuseJoin('7504', 'Insufficient enterprise tenant permissions, cannot access this API.');
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    await h.send(PEOPLE.olivia, '/status', []);
    expect(h.lastReply()).toContain('Setup needed: ');
    expect(h.lastReply()).toContain('Calls.JoinGroupCall.All');
    expect(JSON.stringify(h.lastCard())).toContain('Calls.JoinGroupCall.All');

    // The join works now, but the tenant's removal policy refuses Bouncer.
    h.graph.script('DELETE', /\/participants\//, [{ status: 403, body: { error: { code: 'Forbidden', message: 'no policy' } } }]);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    await h.send(PEOPLE.olivia, '/status', []);
    const status = h.lastReply();
    expect(status).toContain('Set-CsApplicationMeetingConfiguration -AllowRemoveParticipantAppIds');
    // The same kind of action has failed since: the older 7504 stays listed until one succeeds.
    expect(status.indexOf('AllowRemoveParticipantAppIds')).toBeLessThan(status.indexOf('Calls.JoinGroupCall.All'));

    // The administrator fixed it: a removal succeeds, and /status says nothing more about setup.
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\*/);
    await h.send(PEOPLE.olivia, '/status', []);
    expect(h.lastReply()).not.toContain('Setup needed');
  });

  it('another join refusal gets no tenant hint', async () => {
    refuseJoin('Forbidden', 'nope');
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).not.toContain('tenant');
  });
});
