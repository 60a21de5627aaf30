import twilio from 'twilio';
import { afterEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { PEOPLE, startHarness, TWILIO_AUTH_TOKEN, type Harness, type TwilioSide } from '../support/harness.js';

// Issue 13, items 3 and 4 on Twilio: /mute and /unmute as participant updates (Muted), /warn and the
// notice before a kick as an announcement to that caller only, whose TwiML Bouncer serves.

describe('Twilio /mute, /unmute, /warn and the notice before a kick, through the real server', () => {
  let h: Harness;
  let tw: TwilioSide;
  let bridge: SandboxConference;
  const numbers = { mallory: '+15550000001', guest: '+15550000003' };
  let sids: { mallory: string; guest: string };

  /** A bound conference; with `callbacks`, its status callbacks (announcement included) go to Bouncer. */
  const start = async (env: Record<string, string> = {}, options: { callbacks?: boolean } = {}) => {
    h = await startHarness(env, { twilio: true });
    tw = h.twilio!;
    bridge = tw.fake.addConference({
      friendlyName: 'Support bridge',
      ...(options.callbacks ? { statusCallback: `${h.bouncer.url}/api/twilio/conference-events` } : {}),
    });
    sids = {
      mallory: tw.fake.addParticipant(bridge.sid, { from: numbers.mallory, label: 'Mallory' }).callSid,
      guest: tw.fake.addParticipant(bridge.sid, { from: numbers.guest, label: 'Guest 3' }).callSid,
    };
    await h.send(PEOPLE.olivia, '/bind twilio Support bridge', []);
    expect(h.lastReply()).toMatch(/^Connected to the phone conference/);
  };
  afterEach(async () => {
    await tw.fake.settle();
    // Every request the SDK sent must fit Twilio's own OpenAPI document.
    expect(tw.fake.violations).toEqual([]);
    expect(h.logs.join('\n')).not.toContain(TWILIO_AUTH_TOKEN);
    await h.close();
  });

  const rest = (from = 0) => tw.fake.requests.slice(from).map((r) => `${r.method} ${r.path.replace(/\/2010-04-01\/Accounts\/AC\w+/, '')}`);
  const updates = () => tw.fake.requests.filter((r) => r.method === 'POST' && r.path.includes('/Participants/'));
  const detailOf = (row: Record<string, unknown> | undefined) => JSON.parse(String(row?.detail)) as Record<string, unknown>;
  const announceUrlOf = (caseId: number) => new RegExp(`^${h.bouncer.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/api/twilio/announce\\?case=${caseId}&t=[\\w-]{24}$`);

  describe('/mute and /unmute', () => {
    it('/mute updates the participant with Muted=true and /unmute with Muted=false, one request each once bound', async () => {
      await start();
      const before = tw.fake.requests.length;
      await h.send(PEOPLE.olivia, `/mute ${numbers.mallory} feedback noise`, []);
      expect(h.lastReply()).toBe(`Muted **${numbers.mallory}** for everyone in the call. Case #2.`);
      expect(rest(before)).toEqual([`POST /Conferences/${bridge.sid}/Participants/${sids.mallory}.json`]);
      expect(updates()[0]!.form).toEqual({ Muted: 'true' });
      expect(bridge.participants.get(sids.mallory)!.muted).toBe(true);
      expect(bridge.participants.get(sids.guest)!.muted).toBe(false);
      expect(h.cases()[1]).toMatchObject({ action: 'mute', outcome: 'muted', reason: 'feedback noise', call_id: bridge.sid });

      await h.send(PEOPLE.olivia, `/unmute ${numbers.mallory}`, []);
      expect(h.lastReply()).toBe(`Unmuted **${numbers.mallory}**. Case #3.`);
      expect(updates()[1]!.form).toEqual({ Muted: 'false' });
      expect(bridge.participants.get(sids.mallory)!.muted).toBe(false);
      expect(h.cases()[2]).toMatchObject({ action: 'unmute', outcome: 'unmuted' });
    });

    it('mutes by label even with a cold roster (one request by label); a label nobody has is "not in the call"', async () => {
      await start();
      await h.bouncer.store.roster.replace(bridge.sid, []);
      const before = tw.fake.requests.length;
      await h.send(PEOPLE.olivia, '/mute label:Guest 3', []);
      expect(h.lastReply()).toBe('Muted **label "Guest 3"** for everyone in the call. Case #2.');
      expect(rest(before)).toEqual([`POST /Conferences/${bridge.sid}/Participants/Guest%203.json`]);
      expect(bridge.participants.get(sids.guest)!.muted).toBe(true);
      await h.send(PEOPLE.olivia, '/mute label:Nobody', []);
      expect(h.lastReply()).toBe('**label "Nobody"** is not in the call right now, so nobody was muted. Case #3.');
    });

    it("a moderator may not mute the organizer's phone leg; an attendee may not mute anyone", async () => {
      await start();
      tw.fake.addParticipant(bridge.sid, { from: '+15550000071', label: 'olivia@contoso.com' });
      await h.send(PEOPLE.olivia, '/moderators add <at>Pete Presenter</at>', [PEOPLE.pete]);
      await h.send(PEOPLE.pete, '/mute label:olivia@contoso.com', []);
      expect(h.lastReply()).toBe('Only Bouncer admins can mute the meeting organizer. Case #3.');
      await h.send(PEOPLE.ann, `/mute ${numbers.mallory}`, []);
      expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #4.');
      expect(updates()).toEqual([]);
    });
  });

  describe('/warn', () => {
    it("gives that caller an AnnounceUrl of Bouncer's, whose TwiML says the warning, XML-escaped", async () => {
      await start();
      const before = tw.fake.requests.length;
      // Teams sends text with entities: decoded, the reason holds characters TwiML must escape.
      await h.send(PEOPLE.olivia, `/warn ${numbers.mallory} stop &lt;shouting&gt; &amp; "spamming", it's rude`, []);
      expect(h.lastReply()).toBe(`Warned **${numbers.mallory}** privately: only they got the warning. Case #2.`);
      expect(rest(before)).toEqual([`POST /Conferences/${bridge.sid}/Participants/${sids.mallory}.json`]);
      expect(updates()[0]!.form).toEqual({ AnnounceUrl: expect.stringMatching(announceUrlOf(2)), AnnounceMethod: 'POST' });
      // "Warned" means Twilio had the words: it fetched them (signed) before the reply, to play to Mallory only.
      expect(tw.fake.announcements).toEqual([
        expect.objectContaining({
          callSid: sids.mallory,
          status: 200,
          contentType: 'text/xml; charset=utf-8',
          body: '<?xml version="1.0" encoding="UTF-8"?><Response><Say>A moderator of this call warns you: stop &lt;shouting&gt; &amp; &quot;spamming&quot;, it&apos;s rude</Say></Response>',
          played: true,
        }),
      ]);
      expect(h.cases()[1]).toMatchObject({ action: 'warn', outcome: 'warned', reason: 'stop <shouting> & "spamming", it\'s rude' });
      expect(bridge.participants.has(sids.mallory)).toBe(true);
    });

    it('the announce route serves the TwiML only to a validly signed request, for the right token', async () => {
      await start();
      await h.send(PEOPLE.olivia, `/warn ${numbers.mallory} calm down`, []);
      const url = updates()[0]!.form.AnnounceUrl!;
      const params = { AccountSid: 'AC' + 'a1'.repeat(16), CallSid: sids.mallory };
      const post = (target: string, signature?: string) =>
        fetch(target, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature ? { 'x-twilio-signature': signature } : {}) },
          body: new URLSearchParams(params).toString(),
        });
      const sign = (target: string, p: Record<string, string> = params) => twilio.getExpectedTwilioSignature(TWILIO_AUTH_TOKEN, target, p);

      const unsigned = await post(url);
      expect(unsigned.status).toBe(403);
      expect(unsigned.headers.get('content-type')).toBe('application/problem+json');
      expect(await unsigned.text()).not.toContain('calm down');
      expect((await post(url, sign(url, { ...params, CallSid: sids.guest }))).status).toBe(403);
      expect((await post(url, twilio.getExpectedTwilioSignature('another-token', url, params))).status).toBe(403);

      const signed = await post(url, sign(url));
      expect(signed.status).toBe(200);
      expect(await signed.text()).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Say>A moderator of this call warns you: calm down</Say></Response>');
      // A GET, signed over the URL alone, is served too.
      const got = await fetch(url, { headers: { 'x-twilio-signature': sign(url, {}) } });
      expect(got.status).toBe(200);
      // A validly signed request for another token, or a case that has none, gets nothing.
      const wrongToken = url.replace(/t=[\w-]+$/, 't=AAAAAAAAAAAAAAAAAAAAAAAA');
      expect((await post(wrongToken, sign(wrongToken))).status).toBe(404);
      const bindCase = url.replace(/case=\d+/, 'case=1');
      expect((await post(bindCase, sign(bindCase))).status).toBe(404);
    });

    it('a label nobody has is "not in the call", after one update by label', async () => {
      await start();
      await h.bouncer.store.roster.replace(bridge.sid, []);
      const before = tw.fake.requests.length;
      await h.send(PEOPLE.olivia, '/warn label:"Nobody" calm down', []);
      expect(h.lastReply()).toBe('**label "Nobody"** is not in the call right now, so nobody was warned. Case #2.');
      expect(rest(before)).toEqual([`POST /Conferences/${bridge.sid}/Participants/Nobody.json`]);
    });

    it('a warning whose words Twilio cannot fetch (PUBLIC_BASE_URL does not reach Bouncer) is an audited failure', async () => {
      await start({ PUBLIC_BASE_URL: 'http://127.0.0.1:9' });
      await h.send(PEOPLE.olivia, `/warn ${numbers.mallory} calm down`, []);
      expect(h.lastReply()).toBe("Twilio didn't complete the request, so nobody was warned. Please try again in a moment. Case #2.");
      expect(tw.fake.announcements).toEqual([expect.objectContaining({ status: 0, played: false })]);
      expect(h.cases()[1]).toMatchObject({ action: 'warn', outcome: 'upstream_failed' });
    });

    it('an announcement Twilio refuses is an audited failure', async () => {
      await start();
      tw.fake.script('POST', /\/Participants\//, [{ status: 400, body: { code: 21220, message: 'Invalid call state', more_info: 'https://www.twilio.com/docs/errors/21220', status: 400 } }]);
      await h.send(PEOPLE.olivia, `/warn ${numbers.mallory} calm down`, []);
      expect(h.lastReply()).toBe("Twilio didn't complete the request (error 21220, https://www.twilio.com/docs/errors/21220), so nobody was warned. Please tell your Bouncer administrator. Case #2.");
      expect(h.cases()[1]).toMatchObject({ action: 'warn', outcome: 'upstream_failed' });
    });
  });

  describe('the notice before a kick (NOTIFY_REMOVED, on by default)', () => {
    it("announces why before the DELETE, and removes once Twilio says the announcement ended", async () => {
      await start({}, { callbacks: true });
      const before = tw.fake.requests.length;
      const started = Date.now();
      await h.send(PEOPLE.olivia, `/kick ${numbers.mallory} hate speech`, []);
      expect(h.lastReply()).toBe(`Removed **${numbers.mallory}** from the call. Case #2.`);
      expect(rest(before)).toEqual([
        `POST /Conferences/${bridge.sid}/Participants/${sids.mallory}.json`,
        `DELETE /Conferences/${bridge.sid}/Participants/${sids.mallory}.json`,
      ]);
      expect(tw.fake.requests[before]!.form).toEqual({ AnnounceUrl: expect.stringMatching(announceUrlOf(2)), AnnounceMethod: 'POST' });
      // The TwiML was fetched, and played while Mallory was still there, before the DELETE came.
      const [announced] = tw.fake.announcements;
      expect(announced).toMatchObject({ callSid: sids.mallory, status: 200, played: true });
      expect(announced!.body).toContain('<Say>A moderator is removing you from this call. Reason: hate speech</Say>');
      expect(announced!.requestsBefore).toBe(before + 1);
      // Twilio's announcement-end ended the wait: not the time it takes to say it.
      expect(Date.now() - started).toBeLessThan(4000);
      expect(bridge.participants.has(sids.mallory)).toBe(false);
      expect(h.cases()[1]).toMatchObject({ action: 'kick', outcome: 'removed' });
      expect(detailOf(h.cases()[1])).toMatchObject({ notice: 'sent' });
    });

    it('without announcement callbacks, the removal waits the time it takes to say the notice', async () => {
      await start();
      const started = Date.now();
      await h.send(PEOPLE.olivia, `/kick ${numbers.mallory} spam`, []);
      expect(h.lastReply()).toBe(`Removed **${numbers.mallory}** from the call. Case #2.`);
      // "A moderator is removing you from this call. Reason: spam": ten words, about five seconds.
      expect(Date.now() - started).toBeGreaterThanOrEqual(4500);
      expect(tw.fake.announcements).toEqual([expect.objectContaining({ callSid: sids.mallory, played: true })]);
      expect(bridge.participants.has(sids.mallory)).toBe(false);
      expect(detailOf(h.cases()[1])).toMatchObject({ notice: 'sent' });
    });

    it('a notice Twilio refuses still removes, and the case and the reply say the notice failed', async () => {
      await start({}, { callbacks: true });
      tw.fake.script('POST', /\/Participants\//, [{ status: 400, body: { code: 21220, message: 'Invalid call state', more_info: 'https://www.twilio.com/docs/errors/21220', status: 400 } }]);
      await h.send(PEOPLE.olivia, `/kick ${numbers.mallory} spam`, []);
      expect(h.lastReply()).toBe(`Removed **${numbers.mallory}** from the call. I couldn't tell them why first: the notice didn't reach them. Case #2.`);
      expect(bridge.participants.has(sids.mallory)).toBe(false);
      expect(h.cases()[1]).toMatchObject({ outcome: 'removed', status: 'completed' });
      expect(detailOf(h.cases()[1])).toMatchObject({ notice: 'failed' });
    });

    it('NOTIFY_REMOVED=false: the DELETE alone', async () => {
      await start({ NOTIFY_REMOVED: 'false' });
      const before = tw.fake.requests.length;
      await h.send(PEOPLE.olivia, `/kick ${numbers.mallory} spam`, []);
      expect(h.lastReply()).toBe(`Removed **${numbers.mallory}** from the call. Case #2.`);
      expect(rest(before)).toEqual([`DELETE /Conferences/${bridge.sid}/Participants/${sids.mallory}.json`]);
      expect(tw.fake.announcements).toEqual([]);
      expect(detailOf(h.cases()[1])).toEqual({});
    });
  });
});
