import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, MEETING_ID, PEOPLE, TENANT_ID, startHarness, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';
import { until } from '../support/until.js';

// Issue 12: a warm kick (and a pre-joined first kick) in 2 sequential upstream round trips with the
// notice before the removal on: the notice, then the DELETE. What the Bot Connector was asked before
// (the target's member record, the organizer's role) is known ahead: the organizer from the meeting
// details, the chat's members from its paged member list, read off every request's path.

describe('members and organizers known ahead', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  const gets = (from: number) => h.connector.calls.slice(from).filter((c) => c.method === 'GET').map((c) => c.path);
  const listings = () => h.connector.calls.filter((c) => c.path.endsWith('/pagedmembers'));
  const listed = (why: string, times = 1) => until(() => h.logs.filter((l) => l.includes('"msg":"chat members listed"') && l.includes(`"why":"${why}"`)).length >= times);
  const detailOf = (row: Record<string, unknown> | undefined) => JSON.parse(String(row?.detail)) as Record<string, unknown>;

  /** The first kick (joins the call); its chat's members are read after the reply. */
  async function warmUp(): Promise<void> {
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Ann Attendee** from the call. Case #1.');
    await listed('command');
    await h.graph.settle();
  }

  it("a warm organizer's kick asks the Bot Connector nothing before its notice: the notice, then the DELETE", async () => {
    h = await startHarness();
    await warmUp();
    // The listing read the chat's members, names and UPNs included, through the paged member list.
    expect(listings()).toHaveLength(1);

    const before = h.connector.calls.length;
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    // No member lookup (Mallory is known), no role lookup (Olivia organizes the meeting), no meeting lookup (cached).
    expect(gets(before)).toEqual([]);
    const notice = h.connector.notifications.at(-1)!;
    expect(notice).toMatchObject({ meetingId: MEETING_ID, status: 202, body: { value: { recipients: [PEOPLE.mallory.chatId] } } });
    const deletes = h.graph.requests.filter((r) => r.method === 'DELETE');
    expect(deletes).toHaveLength(2);
    expect(notice.at).toBeLessThan(deletes[1]!.at);
    // The case names Mallory as the member list does.
    expect(h.cases()[1]).toMatchObject({ outcome: 'removed', target_name: 'Mallory', target_user_id: PEOPLE.mallory.aadObjectId });
    expect(detailOf(h.cases()[1])).toMatchObject({ notice: 'sent' });
  });

  it('a presenter is still looked up, and denied by default; a co-organizer is looked up and may kick', async () => {
    h = await startHarness();
    await warmUp();

    let before = h.connector.calls.length;
    await h.send(PEOPLE.pete, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #2.');
    expect(gets(before)).toEqual([`/v1/meetings/${encodeURIComponent(MEETING_ID)}/participants/${PEOPLE.pete.aadObjectId}`]);
    expect(h.connector.notifications).toHaveLength(1); // Ann's, from the first kick: nobody is told anything here.

    h.connector.meetings.get(MEETING_ID)!.roles[PEOPLE.pete.aadObjectId] = 'Coorganizer';
    before = h.connector.calls.length;
    await h.send(PEOPLE.pete, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #3.');
    expect(gets(before)).toEqual([`/v1/meetings/${encodeURIComponent(MEETING_ID)}/participants/${PEOPLE.pete.aadObjectId}`]);
  });

  it('the meeting start event reads the members ahead: the pre-joined first kick asks the Bot Connector nothing', async () => {
    h = await startHarness();
    const start = { name: 'application/vnd.microsoft.meetingStart', value: { Id: MEETING_ID, JoinUrl: 'url', Title: 'Weekly', MeetingType: 'Scheduled', StartTime: new Date().toISOString() } };
    expect(await h.event(PEOPLE.olivia, start)).toBe(200);
    await until(() => h.logs.some((l) => l.includes('joined ahead of the first kick')));
    await listed('meeting start');
    await h.graph.settle();

    const before = h.connector.calls.length;
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    expect(gets(before)).toEqual([]);
    expect(h.connector.notifications.at(-1)).toMatchObject({ status: 202, body: { value: { recipients: [PEOPLE.mallory.chatId] } } });
  });

  it('a member Teams reports added later (membersAdded) is known without a lookup', async () => {
    h = await startHarness();
    await warmUp();
    const zed = { chatId: '29:zed', name: 'Zed Newcomer', aadObjectId: randomUUID(), role: 'Attendee', inCall: false };
    h.connector.members.set(zed.chatId, { id: zed.chatId, name: zed.name, aadObjectId: zed.aadObjectId, tenantId: TENANT_ID, userPrincipalName: 'zed@contoso.com' });
    h.connector.meetings.get(MEETING_ID)!.roles[zed.aadObjectId] = 'Attendee';
    const callId = h.graph.callIds[0]!;
    await h.graph.addPerson(callId, { userId: zed.aadObjectId, displayName: zed.name, tenantId: TENANT_ID });

    expect(
      await h.event(PEOPLE.olivia, { type: 'conversationUpdate', membersAdded: [{ id: zed.chatId, aadObjectId: zed.aadObjectId }] }),
    ).toBe(200);
    await listed('members added');
    expect(listings()).toHaveLength(2);

    const before = h.connector.calls.length;
    await h.send(PEOPLE.olivia, '/kick <at>Zed Newcomer</at>', [zed]);
    expect(h.lastReply()).toBe('Removed **Zed Newcomer** from the call. Case #2.');
    expect(gets(before)).toEqual([]);
    expect(h.connector.notifications.at(-1)).toMatchObject({ status: 202, body: { value: { recipients: [zed.chatId] } } });
  });

  it.each([
    ['answers 500', (x: Harness) => x.connector.script('GET', /\/pagedmembers$/, Array.from({ length: 20 }, () => ({ status: 500 })))],
    ['never answers', (x: Harness) => x.connector.hang.push(/\/pagedmembers$/)],
  ])('a member list that %s neither fails nor holds up a kick: it looks the target up, as before', async (_what, breakIt) => {
    h = await startHarness({ UPSTREAM_TIMEOUT_MS: '1500' });
    breakIt(h);
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Ann Attendee** from the call. Case #1.');
    await until(() => listings().length >= 1);
    await h.graph.settle();

    const before = h.connector.calls.length;
    const started = Date.now();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    // Well within the listing's deadline: the kick did not wait for it.
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(gets(before).filter((p) => !p.endsWith('/pagedmembers'))).toEqual([
      `/v3/conversations/${encodeURIComponent(MEETING_CHAT_ID)}/members/${encodeURIComponent(PEOPLE.mallory.chatId)}`,
    ]);
    await until(() => h.logs.some((l) => l.includes('could not list the chat members')), 10_000);
    // Failures are logged only: nothing is said in the chat.
    expect(h.logs.some((l) => l.includes('unhandled error in turn'))).toBe(false);
    // A failed listing is not tried again on every command.
    const tried = listings().length;
    await h.graph.settle();
    await h.send(PEOPLE.olivia, '/kick <at>Pete Presenter</at>', [PEOPLE.pete]);
    expect(h.lastReply()).toBe('Removed **Pete Presenter** from the call. Case #3.');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(listings()).toHaveLength(tried);
  });

  /** A bound chat whose members were read whole (the /bind command's listing), with webhook kicks signed for it. */
  async function boundWithWebhooks(env: Record<string, string> = {}) {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    h = await startHarness({ WEBHOOK_SECRETS: secret, ...env });
    await h.send(PEOPLE.olivia, '/bind', []);
    await listed('command');
    await h.graph.settle();
    const callId = h.graph.callIds[0]!;
    const kick = async (userId: string) => {
      const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId }, reason: 'raid', actor: 'classifier' });
      const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(secret, raw), body: raw });
      expect(res.status).toBe(200);
    };
    const lookups = (userId: string) => h.connector.calls.filter((c) => c.path.endsWith(`/members/${userId}`));
    return { callId, kick, lookups };
  }

  it('after a complete member listing, a webhook kick of a non-member asks nothing and logs no failure; a member is still told', async () => {
    const { callId, kick, lookups } = await boundWithWebhooks();
    // A guest in the call who is not a member of the chat: no notice can reach them.
    const guest = { userId: randomUUID(), displayName: 'Raider', tenantId: TENANT_ID };
    await h.graph.addPerson(callId, guest);
    const logged = h.logs.length;
    await kick(guest.userId);
    expect(lookups(guest.userId)).toHaveLength(0);
    expect(h.cases().at(-1)).toMatchObject({ outcome: 'removed' });
    expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'failed' });
    expect(h.connector.notifications).toHaveLength(0);
    // Quiet: no upstream failure, no stack, nothing above debug about it; one debug line names the case.
    const since = h.logs.slice(logged);
    expect(since.filter((l) => l.includes('upstream failure') || l.includes('"stack"') || l.includes('"level":40') || l.includes('"level":50'))).toEqual([]);
    const quiet = since.filter((l) => l.includes('the person cannot be notified privately'));
    expect(quiet).toHaveLength(1);
    expect(JSON.parse(quiet[0]!)).toMatchObject({ level: 20, caseId: Number(h.cases().at(-1)!.id), why: 'not_a_chat_member' });

    // Mallory, a member, kicked by Entra id: found in the listing, told, no lookup either.
    await kick(PEOPLE.mallory.aadObjectId);
    expect(lookups(PEOPLE.mallory.aadObjectId)).toHaveLength(0);
    expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'sent' });
    expect(h.connector.notifications.at(-1)).toMatchObject({ status: 202, body: { value: { recipients: [PEOPLE.mallory.chatId] } } });
    // The listing answered: the chat was not read again.
    expect(listings()).toHaveLength(1);
  });

  it('membersAdded after the listing makes the newcomer reachable at once, even before the chat is read again', async () => {
    const { callId, kick, lookups } = await boundWithWebhooks({ UPSTREAM_TIMEOUT_MS: '1500' });
    const raider = { userId: randomUUID(), displayName: 'Raider', tenantId: TENANT_ID };
    await h.graph.addPerson(callId, raider);
    await kick(raider.userId);
    expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'failed' });

    // Teams reports them added; the new reading of the chat hangs, so only the event tells.
    h.connector.members.set('29:raider', { id: '29:raider', name: 'Raider', aadObjectId: raider.userId, tenantId: TENANT_ID });
    h.connector.meetings.get(MEETING_ID)!.roles[raider.userId] = 'Attendee';
    h.connector.hang.push(/\/pagedmembers$/);
    expect(await h.event(PEOPLE.olivia, { type: 'conversationUpdate', membersAdded: [{ id: '29:raider', aadObjectId: raider.userId }] })).toBe(200);
    await until(() => listings().length >= 2);
    await h.graph.addPerson(callId, raider);
    await kick(raider.userId);
    expect(lookups(raider.userId)).toHaveLength(0);
    expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'sent' });
    expect(h.connector.notifications.at(-1)).toMatchObject({ status: 202, body: { value: { recipients: ['29:raider'] } } });
    h.connector.hang.length = 0;
  });

  it('membersRemoved: someone who left the chat is not a member any more, without a lookup', async () => {
    const { kick, lookups } = await boundWithWebhooks();
    expect(
      await h.event(PEOPLE.olivia, { type: 'conversationUpdate', membersRemoved: [{ id: PEOPLE.mallory.chatId, aadObjectId: PEOPLE.mallory.aadObjectId }] }),
    ).toBe(200);
    await kick(PEOPLE.mallory.aadObjectId);
    expect(lookups(PEOPLE.mallory.aadObjectId)).toHaveLength(0);
    expect(h.cases().at(-1)).toMatchObject({ outcome: 'removed' });
    expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'failed' });
    expect(h.connector.notifications).toHaveLength(0);
  });

  it('a listing that stopped at the page cap answers nothing: a non-member is looked up (once a minute), as before', async () => {
    const secret = `whsec_${randomBytes(32).toString('base64')}`;
    h = await startHarness({ WEBHOOK_SECRETS: secret });
    for (let i = 0; i < 5_100; i += 1) {
      h.connector.members.set(`29:crowd-${i}`, { id: `29:crowd-${i}`, name: `Crowd ${i}`, aadObjectId: randomUUID(), tenantId: TENANT_ID });
    }
    await h.send(PEOPLE.olivia, '/bind', []);
    await listed('command');
    expect(h.logs.find((l) => l.includes('"msg":"chat members listed"'))).toMatch(/"members":5000,"pages":10,"whole":false/);
    await h.graph.settle();
    const callId = h.graph.callIds[0]!;
    const guest = { userId: randomUUID(), displayName: 'Raider', tenantId: TENANT_ID };
    const kick = async () => {
      const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: guest.userId }, reason: 'raid', actor: 'classifier' });
      const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(secret, raw), body: raw });
      expect(res.status).toBe(200);
    };
    const lookups = () => h.connector.calls.filter((c) => c.path.endsWith(`/members/${guest.userId}`));
    await h.graph.addPerson(callId, guest);
    await kick();
    expect(lookups()).toHaveLength(1);
    expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'failed' });
    // Remembered for a minute: a second kick asks nothing, and the chat is not read again (too big to be read whole).
    await h.graph.addPerson(callId, guest);
    await kick();
    expect(lookups()).toHaveLength(1);
    expect(listings()).toHaveLength(10);
  });

  it('pages through a long member list (the sandbox pages as Teams does for teams: pageSize and continuationToken)', async () => {
    h = await startHarness();
    for (let i = 0; i < 1_200; i += 1) {
      h.connector.members.set(`29:crowd-${i}`, { id: `29:crowd-${i}`, name: `Crowd ${i}`, aadObjectId: randomUUID(), tenantId: TENANT_ID });
    }
    await warmUp();
    // 5 people + the bot + 1,200: three pages of 500.
    expect(listings()).toHaveLength(3);
    expect(h.logs.find((l) => l.includes('"msg":"chat members listed"'))).toMatch(/"members":1206,"pages":3,"whole":true/);
  });
});
