import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { joinUrlFor, MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

/** Issue 11 item 1: a join link's Oid and Tid are the asker's words; the organizer comes from Graph. */
describe('/bind <join link> confirms the organizer with Graph', () => {
  let h: Harness;
  const opsChat = { conversationId: '19:ops-room@thread.v2', meetingId: null };
  const joins = () => h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls');
  const lookups = () => h.graph.requests.filter((r) => r.method === 'GET' && r.path.includes('/onlineMeetings'));

  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.graph.settle();
    await h.close();
  });

  it("an attendee's link naming themselves as organizer is refused, and joins nothing", async () => {
    const forged = joinUrlFor(MEETING_CHAT_ID, PEOPLE.mallory.aadObjectId, TENANT_ID);
    await h.send(PEOPLE.mallory, `/bind ${forged}`, [], opsChat);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
    expect(joins()).toHaveLength(0);
    expect(await h.bouncer.store.bindings.get(opsChat.conversationId)).toBeUndefined();
    // Mallory cannot then act as organizer in that chat.
    await h.send(PEOPLE.mallory, '/kick <at>Olivia Organizer</at>', [PEOPLE.olivia], opsChat);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(0);
  });

  it('the real organizer binds by link: Graph confirms, and the binding records Graph\'s organizer and the tenant', async () => {
    const link = joinUrlFor(MEETING_CHAT_ID, PEOPLE.olivia.aadObjectId, TENANT_ID);
    await h.send(PEOPLE.olivia, `/bind ${link}`, [], opsChat);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #1.");
    expect(lookups()).toHaveLength(1);
    expect(lookups()[0]!.path).toContain(`/users/${PEOPLE.olivia.aadObjectId}/onlineMeetings?`);
    const binding = await h.bouncer.store.bindings.get(opsChat.conversationId);
    expect(binding).toMatchObject({ organizerUserId: PEOPLE.olivia.aadObjectId, tenantId: TENANT_ID });
  });

  it('a link whose tenant is not the confirmed one does not carry its tenant into the join', async () => {
    const link = joinUrlFor(MEETING_CHAT_ID, PEOPLE.olivia.aadObjectId, '00000000-0000-4000-8000-00000000beef');
    await h.send(PEOPLE.olivia, `/bind ${link}`, [], opsChat);
    // Graph knows no meeting with this link: nothing is confirmed, and only admins may bind it.
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
    expect(joins()).toHaveLength(0);
  });

  it('when Graph refuses the lookup (403), only admins may bind by link', async () => {
    h.graph.script('GET', /\/onlineMeetings/, [{ status: 403, body: { error: { code: 'Forbidden', message: 'no policy' } } }]);
    const link = joinUrlFor(MEETING_CHAT_ID, PEOPLE.olivia.aadObjectId, TENANT_ID);
    await h.send(PEOPLE.olivia, `/bind ${link}`, [], opsChat);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
    expect(joins()).toHaveLength(0);
  });

  it('an admin may bind a link Graph cannot confirm; the join uses the app\'s tenant, not the link\'s', async () => {
    await h.close();
    h = await startHarness({ ADMIN_USER_IDS: PEOPLE.pete.aadObjectId });
    h.graph.script('GET', /\/onlineMeetings/, [{ status: 404, body: { error: { code: 'NotFound', message: 'none' } } }]);
    const link = joinUrlFor(MEETING_CHAT_ID, PEOPLE.mallory.aadObjectId, '00000000-0000-4000-8000-00000000beef');
    await h.send(PEOPLE.pete, `/bind ${link}`, [], opsChat);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #1.");
    const body = joins()[0]!.body as { tenantId: string };
    expect(body.tenantId).toBe(TENANT_ID);
    // The link's Oid is no organizer here.
    const binding = await h.bouncer.store.bindings.get(opsChat.conversationId);
    expect(binding?.organizerUserId).toBeUndefined();
  });
});
