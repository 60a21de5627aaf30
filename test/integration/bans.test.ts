import { afterEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

/** Waits for a condition (notices are sent after the removal, without holding it up). */
async function until(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

// Issue 13, item 2: a ban keeps someone out. Teams: a roster notification that shows a banned
// identity in the call (or in its lobby) is answered with a removal, audited as its own case.
describe('bans in a Teams meeting, through the real server', () => {
  let h: Harness;
  afterEach(async () => {
    // Every request Bouncer made to Graph fits Graph's own OpenAPI document.
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const mallory = { userId: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' };
  const callId = () => h.graph.callIds[0]!;
  const inCall = (participantId: string) => h.graph.call(callId())!.participants.has(participantId);
  const userInCall = (userId: string) =>
    [...h.graph.call(callId())!.participants.values()].some((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId);
  const autoCases = () => h.cases().filter((c) => c.source === 'auto');
  const detail = (c: Record<string, unknown>) => JSON.parse(String(c.detail)) as Record<string, unknown>;
  const notices = (pattern: RegExp) => h.connector.activities.filter((a) => pattern.test(String(a.activity.text)));

  it('removes a banned user now, and again whenever they rejoin, from the call or its lobby, each removal its own auto case naming the ban', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> for 2h spamming', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them from this chat's calls until \d{4}-\d\d-\d\d \d\d:\d\d UTC\. Case #1\.$/);
    expect(userInCall(mallory.userId)).toBe(false);
    expect(h.cases()[0]).toMatchObject({ action: 'ban', source: 'chat', outcome: 'banned', reason: 'spamming', target_user_id: mallory.userId, status: 'completed' });
    const ban = await h.bouncer.store.bans.get(1);
    expect(ban).toMatchObject({ scope: MEETING_CHAT_ID, identities: [{ kind: 'user', value: mallory.userId }], targetName: 'Mallory', reason: 'spamming' });
    expect(Date.parse(ban!.expiresAt!) - Date.parse(ban!.createdAt)).toBe(2 * 3600_000);

    // Rejoining: the roster notification is answered only after the removal (well within a second).
    const started = Date.now();
    const rejoined = await h.graph.addPerson(callId(), mallory);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(inCall(rejoined)).toBe(false);
    expect(autoCases()).toHaveLength(1);
    expect(autoCases()[0]).toMatchObject({ action: 'kick', outcome: 'removed', status: 'completed', actor_name: 'Bouncer', target_user_id: mallory.userId, call_id: callId(), reason: 'spamming' });
    expect(detail(autoCases()[0]!)).toMatchObject({ banCaseId: 1 });
    expect(JSON.parse(String(autoCases()[0]!.participant_ids))).toEqual([rejoined]);

    // Waiting in the lobby counts as joining (Graph's documented lobby roster: isInLobby true).
    const waiting = await h.graph.addPerson(callId(), mallory, { inLobby: true });
    expect(inCall(waiting)).toBe(false);
    expect(autoCases()).toHaveLength(2);
    expect(detail(autoCases()[1]!)).toMatchObject({ banCaseId: 1 });
    const deletes = h.graph.requests.filter((r) => r.method === 'DELETE').map((r) => r.path);
    expect(deletes).toEqual(expect.arrayContaining([expect.stringContaining(rejoined), expect.stringContaining(waiting)]));

    // The chat heard of the first at once; others who are not banned stay.
    const note = await h.connector.waitForActivity((a) => /tried to join the call but is banned/.test(String(a.activity.text)));
    expect(note.conversationId).toBe(MEETING_CHAT_ID);
    expect(note.activity.text).toBe(`**Mallory** tried to join the call but is banned (case #1), so I removed them. Case #${String(autoCases()[0]!.id)}.`);
    const nora = await h.graph.addPerson(callId(), { userId: PEOPLE.nora.aadObjectId, displayName: 'Nora Notincall' });
    expect(inCall(nora)).toBe(true);
    expect(autoCases()).toHaveLength(2);

    await h.send(PEOPLE.olivia, '/modlog', []);
    expect(h.lastReply()).toContain('Bouncer → Mallory \\(ban \\#1\\) ("spamming") · removed');
  });

  it('bans someone not in the call (by mention, with the numbers of their profile; by number), and removes them when they dial in', async () => {
    h = await startHarness();
    h.graph.users.get(PEOPLE.nora.aadObjectId)!.businessPhones = ['+1 (555) 000-0055'];
    await h.send(PEOPLE.olivia, '/ban <at>Nora Notincall</at>', [PEOPLE.nora]);
    expect(h.lastReply()).toBe(
      "Banned **Nora Notincall** from this chat's calls until `/unban`. They are not in the call right now; if they join, I'll remove them. Case #1.",
    );
    expect((await h.bouncer.store.bans.get(1))?.identities).toEqual([
      { kind: 'user', value: PEOPLE.nora.aadObjectId },
      { kind: 'phone', value: '+15550000055' },
    ]);
    await h.send(PEOPLE.olivia, '/ban +15550000066 prank calls', []);
    expect(h.lastReply()).toMatch(/^Banned \*\*\+15550000066\*\* from this chat's calls until `\/unban`\. They are not in the call right now/);

    // Dial-in participants are named by their number (identity.phone).
    const noraByPhone = await h.graph.addDialIn(callId(), { number: '+15550000055' });
    const prankster = await h.graph.addDialIn(callId(), { number: '+15550000066' }, { inLobby: true });
    const stranger = await h.graph.addDialIn(callId(), { number: '+15550000077' });
    expect([inCall(noraByPhone), inCall(prankster), inCall(stranger)]).toEqual([false, false, true]);
    expect(autoCases().map((c) => detail(c).banCaseId)).toEqual([1, 2]);
    expect(autoCases().map((c) => c.target_name)).toEqual(['Nora Notincall', '+15550000066']);
  });

  it('an expired ban lets them stay; /bans no longer lists it', async () => {
    let offset = 0;
    const clock = { now: () => new Date(Date.now() + offset) };
    h = await startHarness({}, { clock });
    await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> for 30m', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them/);
    await h.send(PEOPLE.olivia, '/bans', []);
    expect(h.lastReply()).toMatch(/^Banned \(lift with `\/unban <case number>`\):\n- \*\*Mallory\*\* · here · until .+ UTC · case #1$/);

    // 29 minutes later: still banned.
    offset = 29 * 60_000;
    const early = await h.graph.addPerson(callId(), mallory);
    expect(inCall(early)).toBe(false);
    // 31 minutes later: the ban has expired.
    offset = 31 * 60_000;
    const late = await h.graph.addPerson(callId(), mallory);
    expect(inCall(late)).toBe(true);
    expect(autoCases()).toHaveLength(1);
    await h.send(PEOPLE.olivia, '/bans', []);
    expect(h.lastReply()).toMatch(/^Nobody is banned here\./);
  });

  it('/unban by mention or by case number lifts the ban (audited), and they may rejoin; /bans lists what is left', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> spam', [PEOPLE.mallory]);
    await h.send(PEOPLE.olivia, '/ban +15550000066 for 7d prank calls', []);
    await h.send(PEOPLE.olivia, '/bans', []);
    const listed = h.lastReply().split('\n');
    expect(listed[1]).toMatch(/^- \*\*\+15550000066\*\* · here · until .+ UTC · case #2 \("prank calls"\)$/);
    expect(listed[2]).toBe('- **Mallory** · here · until lifted · case #1 ("spam")');

    await h.send(PEOPLE.olivia, '/unban <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Lifted the ban #1 on **Mallory**: they can join again. Case #3.');
    expect(h.cases()[2]).toMatchObject({ action: 'unban', outcome: 'unbanned', target_user_id: PEOPLE.mallory.aadObjectId });
    expect(await h.bouncer.store.bans.get(1)).toMatchObject({ liftedBy: PEOPLE.olivia.aadObjectId, liftCaseId: 3 });
    const back = await h.graph.addPerson(callId(), mallory);
    expect(inCall(back)).toBe(true);

    await h.send(PEOPLE.olivia, '/unban 2', []);
    expect(h.lastReply()).toBe('Lifted the ban #2 on **+15550000066**: they can join again. Case #4.');
    await h.send(PEOPLE.olivia, '/unban #2', []);
    expect(h.lastReply()).toBe('There is no active ban #2 here, so nothing changed. Case #5.');
    await h.send(PEOPLE.olivia, '/unban <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('**Ann Attendee** is not banned here, so nothing changed. Case #6.');
    await h.send(PEOPLE.olivia, '/bans', []);
    expect(h.lastReply()).toMatch(/^Nobody is banned here\./);
    expect(autoCases()).toEqual([]);
  });

  it('keeps the removal rules: nobody bans themselves or the organizer, and only moderators ban, list or lift bans', async () => {
    h = await startHarness();
    await h.send(PEOPLE.olivia, '/ban <at>Olivia Organizer</at>', [PEOPLE.olivia]);
    expect(h.lastReply()).toBe("You can't remove yourself; just leave the call. Case #1.");
    await h.send(PEOPLE.olivia, '/moderators add <at>Ann Attendee</at>', [PEOPLE.ann]);
    await h.send(PEOPLE.ann, '/ban <at>Olivia Organizer</at>', [PEOPLE.olivia]);
    expect(h.lastReply()).toBe('Only Bouncer admins can remove the meeting organizer. Case #3.');
    await h.send(PEOPLE.pete, '/ban <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #4.');
    await h.send(PEOPLE.pete, '/bans', []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that.');
    await h.send(PEOPLE.pete, '/unban 1', []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #5.');
    expect(h.cases().map((c) => [c.action, c.outcome])).toEqual([
      ['ban', 'denied'],
      ['moderator_add', 'moderator_added'],
      ['ban', 'denied'],
      ['ban', 'denied'],
      ['unban', 'denied'],
    ]);
    expect(await h.bouncer.store.bans.listActive([MEETING_CHAT_ID, '*'], new Date().toISOString(), 10)).toEqual([]);
  });

  it('finds a banned person in a whole roster of hundreds, whether the call has few bans or many', async () => {
    h = await startHarness();
    const crowd = Array.from({ length: 300 }, (_, i) => ({
      userId: `0b0b0b0b-0000-4000-8000-${String(i).padStart(12, '0')}`,
      displayName: `Zz Attendee ${i}`,
      tenantId: TENANT_ID,
    }));
    const seeded = Object.values(PEOPLE).filter((p) => p.inCall).map((p) => ({ userId: p.aadObjectId, displayName: p.name, tenantId: TENANT_ID }));
    h.graph.seedMeeting(MEETING_CHAT_ID, [...seeded, ...crowd]);
    await h.send(PEOPLE.olivia, '/ban <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them/);
    // Each roster notification lists everyone (300+): the one ban is matched in memory.
    const first = await h.graph.addPerson(callId(), mallory);
    expect(inCall(first)).toBe(false);
    // With more bans than are worth reading whole, they are looked up by identity.
    for (let i = 0; i < 501; i++) {
      await h.bouncer.store.bans.add({ caseId: 10_000 + i, scope: MEETING_CHAT_ID, identities: [{ kind: 'phone', value: `+1555${String(i).padStart(7, '0')}` }], createdAt: new Date().toISOString() });
    }
    const second = await h.graph.addPerson(callId(), mallory);
    expect(inCall(second)).toBe(false);
    expect(autoCases().map((c) => detail(c).banCaseId)).toEqual([1, 1]);
    expect(h.graph.call(callId())!.participants.size).toBeGreaterThan(300);
  });

  describe('the notice before a removal that enforces a ban (NOTIFY_REMOVED, on by default)', () => {
    const surfaceOf = (n: { body: unknown }) => (n.body as { value: { surfaces: Array<{ content: { value: { url: string; title: string } } }> } }).value.surfaces[0]!.content.value;

    it('tells the person, privately in the meeting, that they are banned and why, before the DELETE and within the second; the auto case says it was sent', async () => {
      h = await startHarness();
      await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> for 2h spamming', [PEOPLE.mallory]);
      const before = h.connector.notifications.length;
      const started = Date.now();
      const rejoined = await h.graph.addPerson(callId(), mallory);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(inCall(rejoined)).toBe(false);

      const told = h.connector.notifications.slice(before);
      expect(told).toEqual([expect.objectContaining({ status: 202, body: expect.objectContaining({ value: expect.objectContaining({ recipients: [PEOPLE.mallory.chatId] }) }) })]);
      const deletes = h.graph.requests.filter((r) => r.method === 'DELETE' && r.path.endsWith(rejoined));
      expect(deletes).toHaveLength(1);
      expect(told[0]!.at).toBeLessThan(deletes[0]!.at);
      const page = surfaceOf(told[0]!);
      expect(page.title).toBe('You are banned from this call');
      const text = await (await fetch(page.url)).text();
      expect(text).toContain('You are banned from this call, so you are being removed from it again. Reason: spamming');
      expect(detail(autoCases()[0]!)).toMatchObject({ banCaseId: 1, notice: 'sent', noticeToken: expect.any(String) });
    });

    it('a notice Teams refuses, or never answers, does not hold the removal up past the second: the auto case says the notice failed', async () => {
      h = await startHarness();
      await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> spam', [PEOPLE.mallory]);
      h.connector.script('POST', /\/notification$/, [{ status: 403 }]);
      const refused = await h.graph.addPerson(callId(), mallory);
      expect(inCall(refused)).toBe(false);
      expect(detail(autoCases()[0]!)).toMatchObject({ banCaseId: 1, notice: 'failed' });

      h.connector.hang.push(/\/notification$/);
      const started = Date.now();
      const unanswered = await h.graph.addPerson(callId(), mallory);
      expect(Date.now() - started).toBeLessThan(1000);
      expect(inCall(unanswered)).toBe(false);
      expect(autoCases()).toHaveLength(2);
      expect(detail(autoCases()[1]!)).toMatchObject({ banCaseId: 1, notice: 'failed' });
    });

    it('NOTIFY_REMOVED=false: the removal alone', async () => {
      h = await startHarness({ NOTIFY_REMOVED: 'false' });
      await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> spam', [PEOPLE.mallory]);
      const rejoined = await h.graph.addPerson(callId(), mallory);
      expect(inCall(rejoined)).toBe(false);
      expect(h.connector.calls.filter((c) => c.path.endsWith('/notification'))).toEqual([]);
      expect(detail(autoCases()[0]!)).toEqual({ banCaseId: 1 });
    });
  });

  it('tells the chat of the first removal at once, then sums a raid of rejoins up once per interval', async () => {
    h = await startHarness({ BAN_NOTICE_INTERVAL_MS: '1500' });
    await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> raid', [PEOPLE.mallory]);
    const raid = await Promise.all(Array.from({ length: 8 }, () => h.graph.addPerson(callId(), mallory)));
    expect(raid.filter((id) => inCall(id))).toEqual([]);
    expect(autoCases()).toHaveLength(8);
    expect(notices(/tried to join the call but is banned/)).toHaveLength(1);
    const summary = await h.connector.waitForActivity((a) => /more banned/.test(String(a.activity.text)), 5000);
    expect(summary.conversationId).toBe(MEETING_CHAT_ID);
    expect(summary.activity.text).toBe('Removed 7 more banned people in the last 1.5 s. `/modlog` lists each case.');
    // A quiet interval later, the next removal is told at once again; no summary for nothing.
    await new Promise((resolve) => setTimeout(resolve, 3200));
    expect(notices(/more banned/)).toHaveLength(1);
    await h.graph.addPerson(callId(), mallory);
    await until(() => notices(/tried to join the call but is banned/).length === 2);
    expect(notices(/more banned/)).toHaveLength(1);
  });
});
