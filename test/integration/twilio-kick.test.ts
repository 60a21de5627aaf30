import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, TWILIO_ACCOUNT_SID, TWILIO_API_KEY, type Harness, type TwilioSide } from '../support/harness.js';

/** A Teams chat bound to a Twilio phone conference: /kick by number, label, CallSid or mention. */
describe('Twilio conferences through the real server', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;
  const numbers = { mallory: '+15550000001', guest: '+15550000003', dup: '+15550000009' };
  let sids: { mallory: string; guest: string; zoe: string };

  beforeEach(async () => {
    // The meeting's chat is configured for these conferences, so its organizer may bind them.
    const conferences = ['Support bridge', 'Old town hall', 'Nobody here'];
    // The removal itself is what is tested here (one request per kick): the announcement before it
    // (NOTIFY_REMOVED) is tested in twilio-mute-warn.test.ts.
    h = await startHarness(
      { TWILIO_CONFERENCE_CHATS: JSON.stringify(Object.fromEntries(conferences.map((c) => [c, MEETING_CHAT_ID]))), NOTIFY_REMOVED: 'false' },
      { twilio: true },
    );
    tw = h.twilio!;
    // Yesterday's bridge of the same name has ended; today's is live.
    tw.fake.addConference({ friendlyName: 'Support bridge', status: 'completed', dateCreated: new Date(Date.now() - 86_400_000) });
    bridge = tw.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    sids = {
      mallory: tw.fake.addParticipant(bridge.sid, { from: numbers.mallory, label: 'Mallory' }).callSid,
      guest: tw.fake.addParticipant(bridge.sid, { from: numbers.guest, label: 'Guest #3' }).callSid,
      zoe: tw.fake.addParticipant(bridge.sid, { from: '+15550000004', label: 'Zoë ☎' }).callSid,
    };
  });
  afterEach(async () => {
    // Every request the SDK sent must fit Twilio's own OpenAPI document.
    expect(tw.fake.violations).toEqual([]);
    await h.close();
  });

  const bind = async () => {
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference \*\*Support bridge\*\*; \/kick works here now\. Case #\d+\.$/);
  };
  const twilioCalls = () => tw.fake.requests.map((r) => `${r.method} ${r.path.replace(/\/2010-04-01\/Accounts\/AC\w+/, '')}`);

  it('binds by friendly name to the in-progress conference, through the API key', async () => {
    await bind();
    const binding = await h.bouncer.store.bindings.get(MEETING_CHAT_ID);
    expect(binding).toMatchObject({ provider: 'twilio', callId: bridge.sid, callName: 'Support bridge', state: 'established' });
    expect(tw.fake.requests.every((r) => r.authorizedAs === TWILIO_API_KEY.sid)).toBe(true);
    // The roster is warm, numbers included.
    expect(await h.bouncer.store.roster.list(bridge.sid)).toEqual(
      expect.arrayContaining([expect.objectContaining({ participantId: sids.mallory, label: 'Mallory', phoneNumbers: [numbers.mallory] })]),
    );
  });

  it('kicks by phone number with a single API call once bound', async () => {
    await bind();
    const before = tw.fake.requests.length;
    await h.send(PEOPLE.olivia, `/kick ${numbers.mallory} shouting`, []);
    expect(h.lastReply()).toBe(`Removed **${numbers.mallory}** from the call. Case #2.`);
    expect(twilioCalls().slice(before)).toEqual([`DELETE /Conferences/${bridge.sid}/Participants/${sids.mallory}.json`]);
    expect(bridge.participants.has(sids.mallory)).toBe(false);
    expect(h.cases()[1]).toMatchObject({ outcome: 'removed', call_id: bridge.sid, reason: 'shouting', target_name: numbers.mallory });
  });

  it('kicks by a label with a space and a #, percent-encoded in the path', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/kick label:"Guest #3" spam', []);
    expect(h.lastReply()).toBe('Removed **label "Guest \\#3"** from the call. Case #2.');
    expect(bridge.participants.has(sids.guest)).toBe(false);
    expect(h.cases()[1]).toMatchObject({ reason: 'spam', target_name: 'Guest #3' });
  });

  it('kicks by a unicode label even with a cold roster: one DELETE by label', async () => {
    await bind();
    await h.bouncer.store.roster.replace(bridge.sid, []);
    const before = tw.fake.requests.length;
    await h.send(PEOPLE.olivia, '/kick label:Zoë ☎', []);
    expect(h.lastReply()).toBe('Removed **label "Zoë ☎"** from the call. Case #2.');
    const calls = twilioCalls().slice(before);
    expect(calls.at(-1)).toBe(`DELETE /Conferences/${bridge.sid}/Participants/${encodeURIComponent('Zoë ☎')}.json`);
    expect(bridge.participants.has(sids.zoe)).toBe(false);
  });

  it('a label nobody has is "not in the call", after one DELETE', async () => {
    await bind();
    const before = tw.fake.requests.length;
    await h.send(PEOPLE.olivia, '/kick label:Nobody', []);
    expect(h.lastReply()).toBe('**label "Nobody"** is not in the call right now, so nobody was removed. Case #2.');
    expect(twilioCalls().slice(before)).toEqual([`DELETE /Conferences/${bridge.sid}/Participants/Nobody.json`]);
    expect(h.cases()[1]).toMatchObject({ outcome: 'target_not_found', status: 'completed' });
  });

  it('refuses a label containing "/" before calling Twilio', async () => {
    await bind();
    const before = tw.fake.requests.length;
    await h.send(PEOPLE.olivia, '/kick label:a/b', []);
    expect(h.lastReply()).toBe('Twilio labels can\'t contain "/", so "a/b" can\'t name a participant. Kick by phone number or CallSid instead.');
    expect(tw.fake.requests.length).toBe(before);
  });

  it('kicks a mentioned Teams user whose label is their name', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(bridge.participants.has(sids.mallory)).toBe(false);
  });

  it('binds by ConferenceSid too', async () => {
    await h.send(PEOPLE.olivia, `/bind twilio ${bridge.sid}`, []);
    expect(h.lastReply()).toBe('Connected to the phone conference **Support bridge**; /kick works here now. Case #1.');
  });

  it("kicks a mentioned user whose label is their UPN, or whose Graph profile has the caller's number", async () => {
    const ann = tw.fake.addParticipant(bridge.sid, { from: '+15550000077', label: 'ANN@contoso.com' }).callSid;
    const pete = tw.fake.addParticipant(bridge.sid, { from: '+15550000088' }).callSid;
    h.graph.users.set(PEOPLE.pete.aadObjectId, { businessPhones: ['+1 (555) 000-0088'], mobilePhone: null });
    await bind();
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Ann Attendee** from the call. Case #2.');
    expect(bridge.participants.has(ann)).toBe(false);
    await h.send(PEOPLE.olivia, '/kick <at>Pete Presenter</at>', [PEOPLE.pete]);
    expect(h.lastReply()).toBe('Removed **Pete Presenter** from the call. Case #3.');
    expect(bridge.participants.has(pete)).toBe(false);
  });

  it('a profile lookup Graph refuses does not fail the kick: the person is just not found', async () => {
    await bind();
    h.graph.script('GET', /^\/users\//, [{ status: 403, body: { error: { code: 'Authorization_RequestDenied', message: 'no' } } }]);
    await h.send(PEOPLE.olivia, '/kick <at>Nora Notincall</at>', [PEOPLE.nora]);
    expect(h.lastReply()).toBe('**Nora Notincall** is not in the call right now, so nobody was removed. Case #2.');
    expect(h.logs.join('\n')).toContain("could not read the user's phone numbers");
  });

  it('kicks by CallSid', async () => {
    await bind();
    await h.send(PEOPLE.olivia, `/kick ${sids.guest}`, []);
    expect(h.lastReply()).toBe(`Removed **${sids.guest}** from the call. Case #2.`);
    expect(bridge.participants.has(sids.guest)).toBe(false);
  });

  it('treats 404 / 20404 as already gone', async () => {
    await bind();
    tw.fake.script('DELETE', /\/Participants\//, [
      { status: 404, body: { code: 20404, message: 'not found', more_info: 'https://www.twilio.com/docs/errors/20404', status: 404 } },
    ]);
    await h.send(PEOPLE.olivia, `/kick ${numbers.mallory}`, []);
    expect(h.lastReply()).toBe(`**${numbers.mallory}** had already left the call. Case #2.`);
    expect(h.cases()[1]).toMatchObject({ outcome: 'already_gone' });
  });

  it('retries 429 / 20429 with backoff, then removes', async () => {
    await bind();
    tw.fake.script('DELETE', /\/Participants\//, [
      { status: 429, body: { code: 20429, message: 'Too Many Requests', more_info: 'https://www.twilio.com/docs/errors/20429', status: 429 } },
    ]);
    await h.send(PEOPLE.olivia, `/kick ${numbers.mallory}`, []);
    expect(h.lastReply()).toBe(`Removed **${numbers.mallory}** from the call. Case #2.`);
    expect(twilioCalls().filter((c) => c.startsWith('DELETE'))).toHaveLength(2);
  });

  it("reports other errors with Twilio's code and more-info link", async () => {
    await bind();
    tw.fake.script('DELETE', /\/Participants\//, [
      { status: 400, body: { code: 21220, message: 'Invalid call state', more_info: 'https://www.twilio.com/docs/errors/21220', status: 400 } },
    ]);
    await h.send(PEOPLE.olivia, `/kick ${numbers.mallory}`, []);
    expect(h.lastReply()).toBe(
      "Twilio didn't complete the request (error 21220, https://www.twilio.com/docs/errors/21220), so nobody was removed. Please tell your Bouncer administrator. Case #2.",
    );
  });

  it('lists the candidates and removes nobody when a number matches several callers', async () => {
    const a = tw.fake.addParticipant(bridge.sid, { from: numbers.dup }).callSid;
    const b = tw.fake.addParticipant(bridge.sid, { from: numbers.dup }).callSid;
    await bind();
    await h.send(PEOPLE.olivia, `/kick ${numbers.dup}`, []);
    const reply = h.lastReply();
    expect(reply).toMatch(/matches more than one participant, so nobody was removed/);
    expect(reply).toContain(a);
    expect(reply).toContain(b);
    expect(twilioCalls().filter((c) => c.startsWith('DELETE'))).toEqual([]);
    expect(h.cases()[1]).toMatchObject({ outcome: 'ambiguous_target' });
  });

  it('says so when the named conference is not in progress, or does not exist', async () => {
    tw.fake.addConference({ friendlyName: 'Old town hall', status: 'completed' });
    await h.send(PEOPLE.olivia, '/bind twilio Old town hall', []);
    expect(h.lastReply()).toBe('That Twilio conference is not in progress. Case #1.');
    await h.send(PEOPLE.olivia, '/bind twilio Nobody here', []);
    expect(h.lastReply()).toBe("I couldn't find that Twilio conference. Case #2.");
    expect(await h.bouncer.store.bindings.get(MEETING_CHAT_ID)).toBeUndefined();
  });

  it('applies the same authorization: an attendee cannot bind or kick', async () => {
    await h.send(PEOPLE.ann, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
    await bind();
    await h.send(PEOPLE.ann, `/kick ${numbers.mallory}`, []);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #3.');
    expect(bridge.participants.has(sids.mallory)).toBe(true);
  });

  it('/unbind ends the binding; a later /kick asks to bind first', async () => {
    await bind();
    await h.send(PEOPLE.olivia, '/unbind', []);
    expect(h.lastReply()).toBe('Disconnected from the phone conference **Support bridge**. Case #2.');
    await h.send(PEOPLE.olivia, `/kick ${numbers.mallory}`, []);
    expect(h.lastReply()).toBe("This chat isn't connected to a call or conference. Use `/bind` first. Case #3.");
    expect(bridge.participants.has(sids.mallory)).toBe(true);
  });

  describe('conference status callbacks', () => {
    const join = (callSid: string, label?: string) => ({
      AccountSid: TWILIO_ACCOUNT_SID,
      ConferenceSid: bridge.sid,
      FriendlyName: 'Support bridge',
      StatusCallbackEvent: 'participant-join',
      CallSid: callSid,
      Muted: 'false',
      Hold: 'false',
      ...(label ? { ParticipantLabel: label } : {}),
    });

    it('a signed participant-join adds the caller, with their number, so the kick is one call', async () => {
      await bind();
      const late = tw.fake.addParticipant(bridge.sid, { from: '+15550000042', label: 'Late caller' });
      expect(await tw.postEvent(join(late.callSid, 'Late caller'))).toBe(204);
      expect(await h.bouncer.store.roster.list(bridge.sid)).toEqual(
        expect.arrayContaining([expect.objectContaining({ participantId: late.callSid, label: 'Late caller', phoneNumbers: ['+15550000042'] })]),
      );
      const before = tw.fake.requests.length;
      await h.send(PEOPLE.olivia, '/kick +15550000042', []);
      expect(h.lastReply()).toBe('Removed **+15550000042** from the call. Case #2.');
      expect(twilioCalls().slice(before)).toEqual([`DELETE /Conferences/${bridge.sid}/Participants/${late.callSid}.json`]);
    });

    it('a tampered or unsigned callback gets 403 and changes nothing', async () => {
      await bind();
      const roster = await h.bouncer.store.roster.list(bridge.sid);
      const signedFor = join('CA' + '0'.repeat(32), 'Real');
      const tampered = { ...signedFor, ParticipantLabel: 'Forged' };
      expect(await tw.postEvent(tampered, { signWith: signedFor })).toBe(403);
      expect(await tw.postEvent(signedFor, { signature: '' })).toBe(403);
      expect(await tw.postEvent(signedFor, { signature: 'bm90IGEgc2lnbmF0dXJl' })).toBe(403);
      expect(await h.bouncer.store.roster.list(bridge.sid)).toEqual(roster);
    });

    it('participant-leave removes the caller; conference-end ends the binding', async () => {
      await bind();
      const base = { AccountSid: TWILIO_ACCOUNT_SID, ConferenceSid: bridge.sid, FriendlyName: 'Support bridge' };
      expect(await tw.postEvent({ ...base, StatusCallbackEvent: 'participant-leave', CallSid: sids.zoe })).toBe(204);
      expect((await h.bouncer.store.roster.list(bridge.sid)).map((p) => p.participantId)).not.toContain(sids.zoe);
      bridge.status = 'completed';
      expect(await tw.postEvent({ ...base, StatusCallbackEvent: 'conference-end' })).toBe(204);
      expect((await h.bouncer.store.bindings.get(MEETING_CHAT_ID))?.state).toBe('terminated');
      await h.send(PEOPLE.olivia, `/kick ${numbers.mallory}`, []);
      expect(h.lastReply()).toBe("This chat isn't connected to a call or conference. Use `/bind` first. Case #2.");
    });
  });
});
