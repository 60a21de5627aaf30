import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { expectDocumented } from '../support/openapi-doc.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TEST_CONFERENCE, TWILIO_ACCOUNT_SID, type Harness, type TwilioSide } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 14, items 1 (Twilio), 2, 3 and 6: a locked-down conference removes every caller who joins
// (each its own case, source auto, naming the lockdown's case) and its voice webhook rejects them;
// --mute mutes whoever does not moderate; raid mode; POST /api/moderation/lockdown.
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_ONLY = `whsec_${randomBytes(32).toString('base64')}`;
const callSid = () => `CA${randomBytes(16).toString('hex')}`;
const OLIVIA_PHONE = '+15550000100';

describe('lockdown of a Twilio conference, through the real server', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;

  const start = async (env: Record<string, string> = {}) => {
    h = await startHarness({ WEBHOOK_SECRETS: `${SECRET}, ${OTHER_ONLY}@twilioConference:Other bridge`, ...env }, { twilio: true });
    tw = h.twilio!;
    bridge = tw.fake.addConference({ friendlyName: TEST_CONFERENCE, status: 'in-progress' });
    tw.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' });
    tw.fake.addParticipant(bridge.sid, { from: OLIVIA_PHONE, label: 'Caller 2' });
    // The organizer's directory profile gives her phone: on the phone too, she moderates.
    h.graph.users.set(PEOPLE.olivia.aadObjectId, { businessPhones: [OLIVIA_PHONE], mobilePhone: null, displayName: PEOPLE.olivia.name });
  };
  afterEach(async () => {
    expect(tw.fake.violations).toEqual([]);
    expect(h.graph.violations).toEqual([]);
    await h.close();
  });

  const bind = async () => {
    await h.send(PEOPLE.olivia, `/bind twilio ${TEST_CONFERENCE}`, []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  };
  const join = async (from: string, label?: string) => {
    const p = tw.fake.addParticipant(bridge.sid, { from, label });
    const status = await tw.postEvent({
      AccountSid: TWILIO_ACCOUNT_SID,
      ConferenceSid: bridge.sid,
      FriendlyName: bridge.friendlyName,
      StatusCallbackEvent: 'participant-join',
      CallSid: p.callSid,
      Muted: 'false',
      Hold: 'false',
      Coaching: 'false',
      EndConferenceOnExit: 'false',
      StartConferenceOnEnter: 'true',
      ...(label ? { ParticipantLabel: label } : {}),
    });
    expect(status).toBe(204);
    return { callSid: p.callSid, inCall: () => bridge.participants.has(p.callSid) };
  };
  const voice = (from: string) =>
    tw.postVoice(
      { AccountSid: TWILIO_ACCOUNT_SID, CallSid: callSid(), From: from, To: '+15005550006', CallStatus: 'ringing', Direction: 'inbound', ApiVersion: '2010-04-01' },
      `conference=${encodeURIComponent(TEST_CONFERENCE)}`,
    );
  const detailOf = (row: Record<string, unknown> | undefined) => JSON.parse(String(row?.detail)) as Record<string, unknown>;
  const autoKicks = () => h.cases().filter((c) => c.source === 'auto' && c.action === 'kick');
  const post = async (secret: string, body: unknown, id?: string) => {
    const raw = JSON.stringify(body);
    const res = await fetch(`${h.bouncer.url}/api/moderation/lockdown`, { method: 'POST', headers: signedHeaders(secret, raw, { id }), body: raw });
    return { status: res.status, contentType: res.headers.get('content-type'), replayed: res.headers.get('idempotent-replayed'), body: (await res.json()) as Record<string, unknown> };
  };

  it('removes every caller who joins while locked (a case each, naming the lockdown), the voice webhook rejects; --mute mutes all but moderators; off opens the door', async () => {
    await start();
    await bind();
    await h.send(PEOPLE.olivia, '/lockdown --mute', []);
    expect(h.lastReply()).toBe(
      "Locked down: every new caller is removed as they join. Muted 1 caller who doesn't moderate. `/lockdown off` restores everything as it was. Case #2.",
    );
    const [mallory, olivia] = [...bridge.participants.values()];
    expect(mallory!.muted).toBe(true);
    expect(olivia!.muted).toBe(false);
    expect(detailOf(h.cases()[1])).toMatchObject({ door: 'turn_away', mute: true, muted: [mallory!.callSid] });

    const raider = await join('+15550000077', 'Raider');
    expect(raider.inCall()).toBe(false);
    expect(autoKicks()).toHaveLength(1);
    expect(autoKicks()[0]).toMatchObject({ outcome: 'removed', call_id: bridge.sid, conversation_id: MEETING_CHAT_ID, actor_name: 'Bouncer', target_name: 'Raider' });
    expect(detailOf(autoKicks()[0])).toMatchObject({ lockdownCaseId: 2 });
    expect((await voice('+15550000078')).body).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Reject/></Response>');
    await h.send(PEOPLE.olivia, '/modlog', []);
    expect(h.lastReply()).toContain('Bouncer → Raider \\(lockdown \\#2\\) ("the call is locked down") · removed');
    expect(h.lastReply()).toContain('Olivia Organizer: /lockdown · locked');

    await h.send(PEOPLE.olivia, '/status', []);
    expect(h.lastReply()).toMatch(/🔒 Locked down since .+ \(case #2; callers muted\)/);

    await h.send(PEOPLE.olivia, '/lockdown off', []);
    expect(h.lastReply()).toMatch(/^Lockdown over: new callers can join again \(lockdown case #2\)\. Case #\d+\.$/);
    const guest = await join('+15550000079', 'Guest');
    expect(guest.inCall()).toBe(true);
    expect(autoKicks()).toHaveLength(1);
    expect((await voice('+15550000080')).body).toContain('<Dial><Conference');
  });

  it('raid mode: more caller joins than RAID_MODE_JOINS within the window lock the conference by itself (source auto); the next caller is removed', async () => {
    await start({ RAID_MODE_JOINS: '2/10s' });
    await bind();
    await join('+15550000201');
    await join('+15550000202');
    expect(h.cases().filter((c) => c.action === 'lockdown')).toEqual([]);
    const third = await join('+15550000203');
    // The joins that set it off are in; the door is shut from now on.
    expect(third.inCall()).toBe(true);
    const raid = h.cases().find((c) => c.action === 'lockdown')!;
    expect(raid).toMatchObject({ source: 'auto', outcome: 'locked', actor_name: 'Bouncer', call_id: bridge.sid });
    expect(detailOf(raid)).toMatchObject({ trigger: { joins: 3, windowMs: 10_000 }, door: 'turn_away' });
    const told = h.connector.activities.map((a) => String(a.activity.text ?? '')).find((t) => t.startsWith('Raid mode'));
    expect(told).toBe(`Raid mode: 3 people joined within 10 s, so I locked the call down: every new caller is removed as they join. \`/lockdown off\` restores everything as it was. Case #${String(raid.id)}.`);
    const fourth = await join('+15550000204');
    expect(fourth.inCall()).toBe(false);
    expect(detailOf(autoKicks()[0])).toMatchObject({ lockdownCaseId: raid.id });
    // Not again while on.
    expect(h.cases().filter((c) => c.action === 'lockdown')).toHaveLength(1);
  });

  it('POST /api/moderation/lockdown: signed, idempotent, documented; locks and unlocks; a scoped secret is refused for another call', async () => {
    await start();
    await bind();
    const on = { call: { twilioConference: TEST_CONFERENCE }, enabled: true, actor: 'raid-detector' };
    const id = `msg_${randomBytes(8).toString('hex')}`;
    const first = await post(SECRET, on, id);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ caseId: 2, outcome: 'locked', callId: bridge.sid, already: false, chat: false, mute: false, muted: [] });
    expectDocumented(first.status, first.contentType, first.body, { path: '/api/moderation/lockdown', method: 'post' });
    expect(h.cases()[1]).toMatchObject({ action: 'lockdown', source: 'webhook', actor_name: 'raid-detector' });
    // The same message again: the first answer, nothing done twice.
    const again = await post(SECRET, on, id);
    expect(again).toMatchObject({ status: 200, replayed: 'true', body: first.body });
    expect(h.cases()).toHaveLength(2);
    expect((await join('+15550000301')).inCall()).toBe(false);

    const refused = await post(OTHER_ONLY, { ...on, enabled: false });
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: 'urn:bouncer:problem:not-authorized', reason: 'not_permitted' });
    expectDocumented(refused.status, refused.contentType, refused.body, { path: '/api/moderation/lockdown', method: 'post' });

    const off = await post(SECRET, { call: { twilioConference: TEST_CONFERENCE }, enabled: false });
    expect(off.body).toMatchObject({ outcome: 'unlocked', wasLocked: true });
    expect((await join('+15550000302')).inCall()).toBe(true);

    const invalid = await post(SECRET, { call: { twilioConference: TEST_CONFERENCE }, enabled: false, mute: true });
    expect(invalid.status).toBe(400);
    expectDocumented(invalid.status, invalid.contentType, invalid.body, { path: '/api/moderation/lockdown', method: 'post' });
    const unsigned = await fetch(`${h.bouncer.url}/api/moderation/lockdown`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(on) });
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toContain('application/problem+json');
  });

  it('POST /api/moderation/lockdown on a Teams chat changes the meeting through Graph, chat included, and restores it', async () => {
    await start();
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const before = h.graph.meetingOptions(MEETING_CHAT_ID);
    const on = await post(SECRET, { call: { conversationId: MEETING_CHAT_ID }, enabled: true, chat: true });
    expect(on.body).toMatchObject({ outcome: 'locked', chat: true, already: false });
    expect(h.graph.meetingOptions(MEETING_CHAT_ID)).toMatchObject({
      lobbyBypassSettings: { scope: 'organizer', isDialInBypassEnabled: false },
      allowAttendeeToEnableMic: false,
      allowAttendeeToEnableCamera: false,
      allowMeetingChat: 'disabled',
    });
    const off = await post(SECRET, { call: { conversationId: MEETING_CHAT_ID }, enabled: false });
    expect(off.body).toMatchObject({ outcome: 'unlocked', wasLocked: true });
    expectDocumented(off.status, off.contentType, off.body, { path: '/api/moderation/lockdown', method: 'post' });
    expect(h.graph.meetingOptions(MEETING_CHAT_ID)).toEqual(before);
  });
});
