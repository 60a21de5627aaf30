import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { PEOPLE, startHarness, type Harness, type TwilioSide } from '../support/harness.js';

/**
 * Issue 11 item 2: a phone leg is matched to a person before the policy runs, so a presenter
 * cannot remove the organizer's dial-in; and a mention is matched on who it is, not on its text.
 */
describe('phone legs are people too (Twilio, through the real server)', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;
  const oliviaPhone = '+15550000077';
  let sids: { byUpn: string; byOid: string; byNumber: string; byName: string; mallory: string };

  beforeEach(async () => {
    // Presenters moderate in this meeting (MODERATOR_ROLES): the protection is what is tested.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' }, { twilio: true });
    tw = h.twilio!;
    h.graph.users.get(PEOPLE.olivia.aadObjectId)!.businessPhones = ['+1 (555) 000-0077'];
    bridge = tw.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    sids = {
      byUpn: tw.fake.addParticipant(bridge.sid, { from: '+15550000071', label: 'olivia@contoso.com' }).callSid,
      byOid: tw.fake.addParticipant(bridge.sid, { from: '+15550000072', label: PEOPLE.olivia.aadObjectId }).callSid,
      byNumber: tw.fake.addParticipant(bridge.sid, { from: oliviaPhone, label: 'Desk phone' }).callSid,
      byName: tw.fake.addParticipant(bridge.sid, { from: '+15550000073', label: 'Olivia Organizer' }).callSid,
      mallory: tw.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' }).callSid,
    };
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  });
  afterEach(async () => {
    await h.close();
  });

  const deletes = () => tw.fake.requests.filter((r) => r.method === 'DELETE');

  it("a presenter cannot remove the organizer's phone leg by its label (UPN or object id)", async () => {
    await h.send(PEOPLE.pete, '/kick label:olivia@contoso.com', []);
    expect(h.lastReply()).toMatch(/organizer/i);
    await h.send(PEOPLE.pete, `/kick label:${PEOPLE.olivia.aadObjectId.toUpperCase()}`, []);
    expect(h.lastReply()).toMatch(/organizer/i);
    expect(deletes()).toHaveLength(0);
    expect(bridge.participants.has(sids.byUpn) && bridge.participants.has(sids.byOid)).toBe(true);
  });

  it("a presenter cannot remove the organizer's dial-in by the number of her profile, even with a cold roster", async () => {
    await h.bouncer.store.roster.replace(bridge.sid, []);
    await h.send(PEOPLE.pete, `/kick ${oliviaPhone}`, []);
    expect(h.lastReply()).toMatch(/organizer/i);
    await h.send(PEOPLE.pete, '/kick label:Olivia Organizer', []);
    expect(h.lastReply()).toMatch(/organizer/i);
    expect(deletes()).toHaveLength(0);
  });

  it("a mention whose display name is someone else's label removes the person mentioned, named as they are", async () => {
    const disguised = { ...PEOPLE.mallory, name: 'Olivia Organizer' };
    await h.send(PEOPLE.pete, '/kick <at>Olivia Organizer</at>', [disguised]);
    expect(bridge.participants.has(sids.byName)).toBe(true);
    expect(deletes().map((r) => r.path)).toEqual([expect.stringContaining(`/Participants/${sids.mallory}.json`)]);
    expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call\./);
  });

  it('the organizer and moderators still remove other callers by label and number', async () => {
    await h.send(PEOPLE.pete, '/kick label:Mallory', []);
    expect(h.lastReply()).toMatch(/^Removed/);
    await h.send(PEOPLE.olivia, `/kick ${oliviaPhone}`, []);
    // Olivia removing her own desk phone: it is her, so "yourself".
    expect(h.lastReply()).toMatch(/yourself/i);
  });
});
