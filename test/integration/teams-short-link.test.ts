import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, MEETING_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

// Issue 11, item 16: Teams now also issues short meeting links, https://teams.microsoft.com/meet/<id>?p=<passcode>.
// Bouncer joins such a meeting with Graph's joinMeetingIdMeetingInfo (the meeting id and passcode).
const JOIN_MEETING_ID = '3567890123456';
const PASSCODE = 'Xy7pQ2';
const SHORT_LINK = `https://teams.microsoft.com/meet/${JOIN_MEETING_ID}?p=${PASSCODE}`;

describe('short Teams meeting links (/meet/<id>?p=<passcode>), through the real server', () => {
  let h: Harness;
  const joins = () => h.graph.requests.filter((r) => r.method === 'POST' && r.path === '/communications/calls');

  beforeEach(async () => {
    h = await startHarness({ ADMIN_USER_IDS: PEOPLE.pete.aadObjectId });
    h.graph.seedMeetingId(MEETING_CHAT_ID, JOIN_MEETING_ID, PASSCODE);
  });
  afterEach(async () => {
    await h.graph.settle();
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  it('an admin binds another chat to a meeting by its short link: Graph is asked to join by meeting id and passcode', async () => {
    const opsChat = { conversationId: '19:ops-room@thread.v2', meetingId: null };
    await h.send(PEOPLE.pete, `/bind ${SHORT_LINK}`, [], opsChat);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #1.");
    expect(joins()).toHaveLength(1);
    const body = joins()[0]!.body as Record<string, unknown>;
    expect(body.meetingInfo).toEqual({ '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo', joinMeetingId: JOIN_MEETING_ID, passcode: PASSCODE });
    expect(body.chatInfo).toBeUndefined();
    // The app's own tenant, since a link carries none Bouncer trusts.
    expect(body.tenantId).toBe(TENANT_ID);
    expect((await h.bouncer.store.bindings.get(opsChat.conversationId))?.state).toBe('established');
  });

  it("a meeting whose chat knows only its short link is joined on /bind, and /kick works", async () => {
    h.connector.meetings.get(MEETING_ID)!.joinUrl = SHORT_LINK;
    await h.send(PEOPLE.olivia, '/bind', []);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #1.");
    expect((joins()[0]!.body as { meetingInfo: { joinMeetingId?: string } }).meetingInfo.joinMeetingId).toBe(JOIN_MEETING_ID);
    await h.graph.settle();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call\. Case #2\.$/);
  });

  it('a short link without a passcode is joined without one; one that is not a meeting id is refused', async () => {
    h.graph.seedMeetingId(MEETING_CHAT_ID, '4000000000001');
    const opsChat = { conversationId: '19:ops-room@thread.v2', meetingId: null };
    await h.send(PEOPLE.pete, '/bind https://teams.microsoft.com/meet/4000000000001', [], opsChat);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #1.");
    expect((joins()[0]!.body as { meetingInfo: object }).meetingInfo).toEqual({
      '@odata.type': '#microsoft.graph.joinMeetingIdMeetingInfo',
      joinMeetingId: '4000000000001',
    });
    await h.send(PEOPLE.pete, '/bind https://teams.microsoft.com/meet/not-a-number?p=x', [], { conversationId: '19:other@thread.v2', meetingId: null });
    expect(joins()).toHaveLength(1);
  });
});
