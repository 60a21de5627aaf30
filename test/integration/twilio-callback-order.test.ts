import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TWILIO_ACCOUNT_SID, type Harness, type TwilioSide } from '../support/harness.js';

// Issue 11, item 5 (third bullet): a signed Twilio callback older than the conference's current
// state (by SequenceNumber) must not end a live binding nor bring back a caller who left.
describe('Twilio conference callbacks out of order, through the real server', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;

  beforeEach(async () => {
    h = await startHarness({}, { twilio: true });
    tw = h.twilio!;
    bridge = tw.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    tw.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' });
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  });
  afterEach(async () => {
    await h.close();
  });

  const event = (StatusCallbackEvent: string, SequenceNumber: number, extra: Record<string, string> = {}) => ({
    AccountSid: TWILIO_ACCOUNT_SID,
    ConferenceSid: bridge.sid,
    FriendlyName: 'Support bridge',
    SequenceNumber: String(SequenceNumber),
    Timestamp: 'Thu, 1 Jun 2017 20:48:32 +0000',
    StatusCallbackEvent,
    ...extra,
  });
  const state = async () => (await h.bouncer.store.bindings.get(MEETING_CHAT_ID))?.state;
  const rosterIds = async () => (await h.bouncer.store.roster.list(bridge.sid)).map((p) => p.participantId);

  it('a conference-end older than an event already applied does not end the binding; a newer one does', async () => {
    const caller = tw.fake.addParticipant(bridge.sid, { from: '+15550000042', label: 'Late caller' });
    expect(await tw.postEvent(event('participant-join', 5, { CallSid: caller.callSid, ParticipantLabel: 'Late caller' }))).toBe(204);
    // A late (or replayed) conference-end from before that join.
    expect(await tw.postEvent(event('conference-end', 3))).toBe(204);
    expect(await state()).toBe('established');
    expect(await rosterIds()).toContain(caller.callSid);
    expect(h.logs.some((l) => l.includes('older than the state already applied'))).toBe(true);

    // The conference really ends now.
    bridge.status = 'completed';
    expect(await tw.postEvent(event('conference-end', 9))).toBe(204);
    expect(await state()).toBe('terminated');
  });

  it('a participant-join replayed after that participant left does not bring them back', async () => {
    const caller = tw.fake.addParticipant(bridge.sid, { from: '+15550000042', label: 'Late caller' });
    const join = event('participant-join', 4, { CallSid: caller.callSid, ParticipantLabel: 'Late caller' });
    expect(await tw.postEvent(join)).toBe(204);
    expect(await tw.postEvent(event('participant-leave', 6, { CallSid: caller.callSid }))).toBe(204);
    expect(await rosterIds()).not.toContain(caller.callSid);
    expect(await tw.postEvent(join)).toBe(204);
    expect(await rosterIds()).not.toContain(caller.callSid);
  });

  it('a conference-end that this instance cannot order (another instance saw the newer events) ends nothing while Twilio says the conference is in progress', async () => {
    // This instance has applied no event of this conference: by sequence, any end looks fresh.
    expect(await tw.postEvent(event('conference-end', 99))).toBe(204);
    expect(await state()).toBe('established');
    expect(h.logs.some((l) => l.includes('conference-end for a conference Twilio says is in progress ignored'))).toBe(true);
  });

  it('a replayed conference-end after a later join, from another participant, still leaves the binding live', async () => {
    const a = tw.fake.addParticipant(bridge.sid, { from: '+15550000043' });
    expect(await tw.postEvent(event('conference-start', 1))).toBe(204);
    expect(await tw.postEvent(event('participant-join', 2, { CallSid: a.callSid }))).toBe(204);
    expect(await tw.postEvent(event('conference-end', 2))).toBe(204);
    expect(await state()).toBe('established');
  });

  it('events after an applied conference-end (older sequence) change nothing', async () => {
    const caller = tw.fake.addParticipant(bridge.sid, { from: '+15550000044' });
    bridge.status = 'completed';
    expect(await tw.postEvent(event('conference-end', 10))).toBe(204);
    expect(await state()).toBe('terminated');
    expect(await tw.postEvent(event('participant-join', 8, { CallSid: caller.callSid }))).toBe(204);
    expect(await rosterIds()).not.toContain(caller.callSid);
  });
});
