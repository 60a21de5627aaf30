import { randomBytes } from 'node:crypto';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TEST_CONFERENCE, TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, type Harness, type TwilioSide } from '../support/harness.js';

// Issue 13, item 2: bans on phone conferences. A participant-join callback for a banned caller is
// answered with a removal; the optional voice webhook turns a banned number away before it joins.
const OTHER_CHAT = '19:meeting_other_chat@thread.v2';
const callSid = () => `CA${randomBytes(16).toString('hex')}`;

describe('bans on Twilio conferences, through the real server', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;

  beforeEach(async () => {
    h = await startHarness({ ADMIN_USER_IDS: PEOPLE.pete.aadObjectId }, { twilio: true });
    tw = h.twilio!;
    bridge = tw.fake.addConference({ friendlyName: TEST_CONFERENCE, status: 'in-progress' });
    tw.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' });
    tw.fake.addParticipant(bridge.sid, { from: '+15550000002', label: 'Ann' });
  });
  afterEach(async () => {
    // Every request the SDK sent (and Graph got) fits the vendors' own OpenAPI documents.
    expect(tw.fake.violations).toEqual([]);
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const bind = async (conversationId = MEETING_CHAT_ID, conference = bridge) => {
    await h.send(PEOPLE.pete, `/bind twilio ${conference.friendlyName}`, [], { conversationId, meetingId: conversationId === MEETING_CHAT_ID ? undefined : null });
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  };
  /** A caller joins: the fake conference gets them, and Bouncer the documented participant-join callback. */
  const join = async (conference: SandboxConference, from: string, label?: string) => {
    const p = tw.fake.addParticipant(conference.sid, { from, label });
    const status = await tw.postEvent({
      AccountSid: TWILIO_ACCOUNT_SID,
      ConferenceSid: conference.sid,
      FriendlyName: conference.friendlyName,
      StatusCallbackEvent: 'participant-join',
      CallSid: p.callSid,
      Muted: 'false',
      Hold: 'false',
      Coaching: 'false',
      EndConferenceOnExit: 'false',
      StartConferenceOnEnter: 'true',
      ...(label ? { ParticipantLabel: label } : {}),
    });
    return { callSid: p.callSid, status, inCall: () => conference.participants.has(p.callSid) };
  };
  const autoCases = () => h.cases().filter((c) => c.source === 'auto');
  const detail = (c: Record<string, unknown>) => JSON.parse(String(c.detail)) as Record<string, unknown>;
  const voice = (from: string, conference = TEST_CONFERENCE, options?: { signature?: string }) =>
    tw.postVoice(
      { AccountSid: TWILIO_ACCOUNT_SID, CallSid: callSid(), From: from, To: '+15005550006', CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' },
      `conference=${encodeURIComponent(conference)}`,
      options,
    );

  it('bans a caller by label (removed now; their number and label kept), and removes them on participant-join from the same number', async () => {
    await bind();
    // Quoted, so that a length and a reason may follow (unquoted, the rest of the line is the label).
    await h.send(PEOPLE.pete, '/ban label:"Mallory" for 1d heckling', []);
    expect(h.lastReply()).toMatch(/^Removed \*\*label "Mallory"\*\* from the call and banned them from this chat's calls until .+ UTC\. Case #2\.$/);
    expect([...bridge.participants.values()].map((p) => p.label)).toEqual(['Ann']);
    expect((await h.bouncer.store.bans.get(2))?.identities).toEqual([
      { kind: 'label', value: 'Mallory' },
      { kind: 'phone', value: '+15550000001' },
    ]);

    // She calls back from the same number, under another label: the callback is answered after her removal.
    const again = await join(bridge, '+15550000001', 'Caller 7');
    expect(again.status).toBe(204);
    expect(again.inCall()).toBe(false);
    expect(autoCases()).toHaveLength(1);
    expect(autoCases()[0]).toMatchObject({ action: 'kick', outcome: 'removed', call_id: bridge.sid, conversation_id: MEETING_CHAT_ID, reason: 'heckling' });
    expect(detail(autoCases()[0]!)).toMatchObject({ banCaseId: 2 });
    expect(tw.fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path.split('/').at(-1))).toEqual([
      expect.stringMatching(/^CA/),
      `${again.callSid}.json`,
    ]);
    // Someone else stays.
    const other = await join(bridge, '+15550000009');
    expect(other.inCall()).toBe(true);
  });

  it('a number banned before it calls is removed on join, and the voice webhook rejects it; everyone else gets the conference', async () => {
    await bind();
    await h.send(PEOPLE.pete, '/ban +15550000066 robocalls', []);
    expect(h.lastReply()).toMatch(/^Banned \*\*\+15550000066\*\* from this chat's calls until `\/unban`\. They are not in the call right now/);
    const caller = await join(bridge, '+15550000066');
    expect(caller.inCall()).toBe(false);
    expect(detail(autoCases()[0]!)).toMatchObject({ banCaseId: 2 });
    // No announcement first (it would keep them in the conference while it is said): the DELETE alone.
    expect(tw.fake.requests.filter((r) => r.method === 'POST')).toEqual([]);
    expect(detail(autoCases()[0]!)).not.toHaveProperty('notice');

    // The voice webhook, for a number whose voice URL is Bouncer's: rejected (not answered, not billed).
    const rejected = await voice('+15550000066');
    expect(rejected).toEqual({ status: 200, contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>' });
    const admitted = await voice('+15550000099');
    expect(admitted.status).toBe(200);
    expect(admitted.contentType).toBe('text/xml');
    const eventsUrl = `${h.bouncer.url}/api/twilio/conference-events`;
    expect(admitted.body).toBe(
      `<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Conference statusCallback="${eventsUrl}" statusCallbackEvent="join leave end" statusCallbackMethod="POST">Support bridge</Conference></Dial></Response>`,
    );
    // A conference of another name: this chat's bans are not its.
    expect((await voice('+15550000066', 'Other line')).body).toContain('<Dial><Conference');
  });

  it('the voice webhook applies the bans of the chats configured for a conference (TWILIO_CONFERENCE_CHATS), and escapes its name', async () => {
    // The meeting chat is configured for the test conference, not bound to it: bound to its meeting's call.
    await h.send(PEOPLE.olivia, '/ban +15550000066', []);
    expect(h.lastReply()).toMatch(/^Banned \*\*\+15550000066\*\*/);
    expect((await voice('+15550000066')).body).toContain('<Reject/>');
    const odd = await voice('+15550000066', `Q&A <"live"> 'now'`);
    expect(odd.body).toContain('>Q&#38;A &#60;&#34;live&#34;&#62; &#39;now&#39;</Conference>');
  });

  it('refuses voice requests that are not signed by the account, or name no conference', async () => {
    const params = { AccountSid: TWILIO_ACCOUNT_SID, CallSid: callSid(), From: '+15550000099' };
    const unsigned = await tw.postVoice(params, 'conference=Support%20bridge', { signature: '' });
    expect(unsigned.status).toBe(403);
    expect(unsigned.contentType).toBe('application/problem+json');
    expect(JSON.parse(unsigned.body)).toEqual({ type: 'urn:bouncer:problem:forbidden', title: 'The request is not allowed', status: 403 });
    expect((await tw.postVoice(params, 'conference=Support%20bridge', { signature: 'bm90IGEgc2lnbmF0dXJl' })).status).toBe(403);
    // Signed for another conference than the one asked for: the query is part of what is signed.
    const forOther = twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, `${h.bouncer.url}/api/twilio/voice?conference=Other`, params);
    expect((await tw.postVoice(params, 'conference=Support%20bridge', { signature: forOther })).status).toBe(403);
    expect((await tw.postVoice(params, 'conference=Other', { signature: forOther })).status).toBe(200);
    const otherAccount = await tw.postVoice({ ...params, AccountSid: `AC${'c3'.repeat(16)}` }, 'conference=Support%20bridge');
    expect(otherAccount.status).toBe(403);
    const nameless = await tw.postVoice(params, 'nothing=here');
    expect(nameless.status).toBe(400);
    expect(JSON.parse(nameless.body)).toMatchObject({ type: 'urn:bouncer:problem:invalid-body' });
  });

  it('--everywhere (admins only) keeps someone out of every call Bouncer moderates: a Teams meeting and a conference bound to another chat', async () => {
    const hotline = tw.fake.addConference({ friendlyName: 'Hotline', status: 'in-progress' });
    // Someone stays on the line: a conference whose last participant is removed ends.
    tw.fake.addParticipant(hotline.sid, { from: '+15550000002' });
    await bind(OTHER_CHAT, hotline);
    h.graph.users.get(PEOPLE.mallory.aadObjectId)!.businessPhones = ['+1 (555) 000-0123'];

    // A moderator who is not an admin may ban here, not everywhere.
    await h.send(PEOPLE.olivia, '/ban <at>Mallory</at> --everywhere raid', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Only Bouncer admins can ban people from every call, or lift such a ban. Case #2.');
    expect(h.cases()[1]).toMatchObject({ action: 'ban', outcome: 'denied' });
    expect(JSON.parse(String(h.cases()[1]!.detail))).toMatchObject({ reason: 'not_admin' });

    await h.send(PEOPLE.pete, '/ban <at>Mallory</at> --everywhere raid', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them from every call Bouncer moderates until `\/unban`\. Case #3\.$/);
    expect(await h.bouncer.store.bans.get(3)).toMatchObject({ scope: '*' });

    // Her phone, in the other chat's conference: removed, and that chat is told.
    const byPhone = await join(hotline, '+15550000123');
    expect(byPhone.inCall()).toBe(false);
    expect(autoCases().at(-1)).toMatchObject({ call_id: hotline.sid, conversation_id: OTHER_CHAT });
    expect(detail(autoCases().at(-1)!)).toMatchObject({ banCaseId: 3 });
    const told = await h.connector.waitForActivity((a) => a.conversationId === OTHER_CHAT && /banned everywhere/.test(String(a.activity.text)));
    // A caller has no name of their own: the ban's name for them is used.
    expect(told.activity.text).toMatch(/^\*\*Mallory\*\* tried to join the call but is banned everywhere \(case #3\), so I removed them\. Case #\d+\.$/);
    // And the voice webhook turns her away from any conference.
    expect((await voice('+15550000123', 'Some other line')).body).toContain('<Reject/>');
    // Back in the Teams meeting: removed again.
    const teamsCall = h.graph.callIds[0]!;
    const rejoined = await h.graph.addPerson(teamsCall, { userId: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' });
    expect(h.graph.call(teamsCall)!.participants.has(rejoined)).toBe(false);

    // The other chat lists the everywhere ban; only an admin lifts it.
    await h.send(PEOPLE.pete, '/bans', [], { conversationId: OTHER_CHAT, meetingId: null });
    expect(h.lastReply()).toMatch(/^Banned .*\n- \*\*Mallory\*\* · everywhere · until lifted · case #3 \("raid"\)$/);
    await h.send(PEOPLE.olivia, '/unban 3', []);
    expect(h.lastReply()).toMatch(/^Only Bouncer admins can ban people from every call, or lift such a ban\. Case #\d+\.$/);
    await h.send(PEOPLE.pete, '/unban <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Lifted the ban #3 on \*\*Mallory\*\*: they can join again\. Case #\d+\.$/);
    expect((await join(hotline, '+15550000123')).inCall()).toBe(true);
  });

  it('--everywhere also removes them now from every live call Bouncer moderates where they are: each its own auto case, and those chats are told', async () => {
    const hotline = tw.fake.addConference({ friendlyName: 'Hotline', status: 'in-progress' });
    tw.fake.addParticipant(hotline.sid, { from: '+15550000002' });
    await bind(OTHER_CHAT, hotline);
    const quiet = tw.fake.addConference({ friendlyName: 'Quiet line', status: 'in-progress' });
    tw.fake.addParticipant(quiet.sid, { from: '+15550000003' });
    await bind('19:meeting_third_chat@thread.v2', quiet);
    h.graph.users.get(PEOPLE.mallory.aadObjectId)!.businessPhones = ['+1 (555) 000-0123'];
    // She is on the hotline by phone before the ban (and not banned yet: she stays).
    const onHotline = await join(hotline, '+15550000123');
    expect(onHotline.inCall()).toBe(true);

    await h.send(PEOPLE.pete, '/ban <at>Mallory</at> --everywhere raid', [PEOPLE.mallory]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them from every call Bouncer moderates until `\/unban`\. Case #(\d+)\.$/);
    const banCaseId = Number(/Case #(\d+)\.$/.exec(h.lastReply())![1]);
    // Out of the Teams meeting (the command's own call) and, by the time the reply came, the hotline.
    expect(onHotline.inCall()).toBe(false);
    expect(tw.fake.requests.filter((r) => r.method === 'DELETE').map((r) => r.path)).toEqual([expect.stringContaining(`/Conferences/${hotline.sid}/Participants/${onHotline.callSid}.json`)]);
    expect(autoCases()).toEqual([expect.objectContaining({ action: 'kick', outcome: 'removed', call_id: hotline.sid, conversation_id: OTHER_CHAT, reason: 'raid' })]);
    expect(detail(autoCases()[0]!)).toMatchObject({ banCaseId });
    const told = await h.connector.waitForActivity((a) => a.conversationId === OTHER_CHAT && /banned everywhere/.test(String(a.activity.text)));
    expect(told.activity.text).toMatch(new RegExp(`^\\*\\*Mallory\\*\\* tried to join the call but is banned everywhere \\(case #${banCaseId}\\), so I removed them\\. Case #\\d+\\.$`));
    // Nobody else was touched.
    expect([...hotline.participants.values()].map((p) => p.from)).toEqual(['+15550000002']);
    expect([...quiet.participants.values()].map((p) => p.from)).toEqual(['+15550000003']);
  });

  it('a ban in one chat does not reach a conference bound to another', async () => {
    const hotline = tw.fake.addConference({ friendlyName: 'Hotline', status: 'in-progress' });
    tw.fake.addParticipant(hotline.sid, { from: '+15550000002' });
    await bind(OTHER_CHAT, hotline);
    await bind();
    await h.send(PEOPLE.pete, '/ban +15550000066', []);
    expect((await join(hotline, '+15550000066')).inCall()).toBe(true);
    expect((await join(bridge, '+15550000066')).inCall()).toBe(false);
  });
});
