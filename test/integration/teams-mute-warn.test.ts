import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CONTRACTS_DIR } from '../support/protocol/openapi-contract.js';
import { APP_PASSWORD, MEETING_CHAT_ID, MEETING_ID, PEOPLE, startHarness, type Harness, type Person } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 13, items 3 and 4 on Teams: /mute and /unmute through Graph's participant mute, /warn and the
// notice before a kick (NOTIFY_REMOVED) as targeted in-meeting notifications through the Bot Connector.

const NOTIFICATION_FIXTURE = path.join(CONTRACTS_DIR, 'fixtures', 'teams-targeted-meeting-notification.request.docs.json');
const MUTE_FIXTURE = path.join(CONTRACTS_DIR, 'fixtures', 'graph-participant-mute.request.docs.json');
const haveFixtures = existsSync(NOTIFICATION_FIXTURE) && existsSync(MUTE_FIXTURE);
if (!haveFixtures) console.warn('../shared/contracts not found: the notification and mute requests are not compared with the documented examples.');

/** The shape of a JSON value: its object keys (recursively) and the types of its leaves. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.length > 0 ? [shapeOf(value[0])] : [];
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, shapeOf(v)]));
  return typeof value;
}

describe('Teams /mute, /unmute, /warn and the notice before a kick, through the real server', () => {
  let h: Harness;
  afterEach(async () => {
    await h.graph.settle();
    // Every Graph request must fit Microsoft's own OpenAPI document.
    expect(h.graph.violations).toEqual([]);
    expect(h.logs.join('\n')).not.toContain(APP_PASSWORD);
    await h.close();
  });

  const start = async (env: Record<string, string> = {}) => {
    h = await startHarness(env);
  };
  const participantOf = (userId: string) => {
    for (const id of h.graph.callIds) {
      for (const p of h.graph.call(id)!.participants.values()) {
        if ((p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId) return { callId: id, p };
      }
    }
    return undefined;
  };
  const graphCalls = () => h.graph.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`);
  const detailOf = (row: Record<string, unknown> | undefined) => JSON.parse(String(row?.detail)) as Record<string, unknown>;
  const pageOf = async (url: string) => {
    const res = await fetch(url);
    return { status: res.status, type: res.headers.get('content-type'), csp: res.headers.get('content-security-policy'), text: await res.text() };
  };
  const send = (from: Person, text: string, mentions: Person[]) => h.send(from, text, mentions);

  describe('/mute and /unmute', () => {
    it("/mute sends Graph's participant mute for that participant, contract-valid, and Graph's roster then says muted", async () => {
      await start();
      await send(PEOPLE.olivia, '/mute <at>Mallory</at> shouting', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Muted **Mallory** for everyone in the call. Case #1.');
      const found = participantOf(PEOPLE.mallory.aadObjectId)!;
      const mutes = h.graph.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/mute'));
      expect(mutes.map((r) => r.path)).toEqual([`/communications/calls/${found.callId}/participants/${found.p.id}/mute`]);
      expect(mutes[0]!.body).toEqual({ clientContext: expect.stringMatching(/^[0-9a-f-]{36}$/) });
      if (haveFixtures) expect(shapeOf(mutes[0]!.body)).toEqual(shapeOf(JSON.parse(readFileSync(MUTE_FIXTURE, 'utf8'))));
      // Graph's own state: a server mute of that participant only, and a roster notification saying so.
      expect(found.p.isMuted).toBe(true);
      expect(found.p.mediaStreams).toEqual([expect.objectContaining({ mediaType: 'audio', serverMuted: true })]);
      expect(participantOf(PEOPLE.ann.aadObjectId)!.p.isMuted).toBe(false);
      await h.graph.settle();
      const rosterUpdate = h.graph.notificationsSent.map((n) => JSON.stringify(n.payload)).find((text) => text.includes('"isMuted":true'));
      expect(rosterUpdate).toContain(found.p.id);
      expect(h.cases()[0]).toMatchObject({ action: 'mute', outcome: 'muted', status: 'completed', reason: 'shouting', target_user_id: PEOPLE.mallory.aadObjectId });
      expect(JSON.parse(String(h.cases()[0]!.participant_ids))).toEqual([found.p.id]);
    });

    it('once the roster is warm, /mute costs one Graph request; Graph answering 404 means they already left', async () => {
      await start();
      await send(PEOPLE.olivia, '/bind', []);
      await h.graph.settle();
      const before = h.graph.requests.length;
      await send(PEOPLE.olivia, '/mute <at>Ann Attendee</at>', [PEOPLE.ann]);
      expect(h.lastReply()).toBe('Muted **Ann Attendee** for everyone in the call. Case #2.');
      expect(graphCalls().slice(before)).toEqual(['POST /communications/calls/:id/participants/:id/mute']);
      h.graph.script('POST', /\/mute$/, [{ status: 404, body: { error: { code: '8507', message: 'participant not found' } } }]);
      await send(PEOPLE.olivia, '/mute <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('**Mallory** had already left the call. Case #3.');
    });

    it('a Graph failure on the mute is audited and said, without muting anyone', async () => {
      await start();
      await send(PEOPLE.olivia, '/bind', []);
      await h.graph.settle();
      h.graph.script('POST', /\/mute$/, [{ status: 403, headers: { 'request-id': 'req-403' }, body: { error: { code: 'Forbidden', message: 'no' } } }]);
      await send(PEOPLE.olivia, '/mute <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe("Microsoft Graph didn't complete the request (request-id req-403), so nobody was muted. Please tell your Bouncer administrator. Case #2.");
      expect(h.cases()[1]).toMatchObject({ action: 'mute', outcome: 'upstream_failed' });
      expect(participantOf(PEOPLE.mallory.aadObjectId)!.p.isMuted).toBe(false);
    });

    it('/unmute on Teams says only the person can unmute themselves, and sends nothing to Graph', async () => {
      await start();
      await send(PEOPLE.olivia, '/unmute <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe(
        "Only the person can unmute themselves in Teams calls: Bouncer can't unmute someone else there, so nothing was sent. They can unmute with their own microphone button. Case #1.",
      );
      // Not even a join.
      expect(h.graph.requests).toEqual([]);
      expect(h.cases()[0]).toMatchObject({ action: 'unmute', outcome: 'unsupported' });
      expect(detailOf(h.cases()[0])).toEqual({ provider: 'teams', capability: 'unmute' });
      // With the call joined and Mallory muted, still nothing is sent.
      await send(PEOPLE.olivia, '/mute <at>Mallory</at>', [PEOPLE.mallory]);
      const before = h.graph.requests.length;
      await send(PEOPLE.olivia, '/unmute <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toMatch(/^Only the person can unmute themselves in Teams calls/);
      expect(h.graph.requests.length).toBe(before);
    });
  });

  describe('/warn', () => {
    it('posts one targeted meeting notification to that person only, in the documented shape; its page shows the warning', async () => {
      await start();
      // Teams sends text with entities; decoded, the reason holds markup, which the page must not render.
      await send(PEOPLE.olivia, '/warn <at>Mallory</at> please stop &lt;b&gt;shouting&lt;/b&gt; &amp; "spamming"', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Warned **Mallory** privately: only they got the warning. Case #1.');
      expect(h.connector.notifications).toHaveLength(1);
      const [sent] = h.connector.notifications;
      expect(sent).toMatchObject({ meetingId: MEETING_ID, status: 202 });
      const body = sent!.body as { value: { recipients: string[]; surfaces: Array<{ content: { value: { url: string; title: string } } }> } };
      expect(body).toEqual({
        type: 'targetedMeetingNotification',
        value: {
          recipients: [PEOPLE.mallory.chatId],
          surfaces: [
            {
              surface: 'meetingStage',
              contentType: 'task',
              content: { value: { height: '300', width: '400', title: 'A warning from the moderators', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/api\/teams\/notice\?case=1&t=[\w-]{24}$/) } },
            },
          ],
        },
      });
      if (haveFixtures) {
        // The documented request, but for its optional channelData (onBehalfOf: Bouncer names no moderator).
        const documented = JSON.parse(readFileSync(NOTIFICATION_FIXTURE, 'utf8')) as Record<string, unknown>;
        delete documented.channelData;
        expect(shapeOf(body)).toEqual(shapeOf(documented));
      }
      // The recipient reads the warning on Bouncer's page, escaped; the words are the case's, not the URL's.
      const url = body.value.surfaces[0]!.content.value.url;
      const page = await pageOf(url);
      expect(page.status).toBe(200);
      expect(page.type).toBe('text/html; charset=utf-8');
      expect(page.csp).toContain("default-src 'none'");
      expect(page.text).toContain('A moderator of this call warns you: please stop &lt;b&gt;shouting&lt;/b&gt; &amp; &quot;spamming&quot;');
      expect(page.text).not.toContain('<b>');
      expect((await pageOf(url.replace(/t=[\w-]+/, `t=${randomBytes(18).toString('base64url')}`))).status).toBe(404);
      expect((await pageOf(url.replace('case=1', 'case=2'))).status).toBe(404);
      expect((await pageOf(`${h.bouncer.url}/api/teams/notice?case=1`)).status).toBe(404);

      expect(h.cases()[0]).toMatchObject({ action: 'warn', outcome: 'warned', status: 'completed', reason: 'please stop <b>shouting</b> & "spamming"' });
      // Nothing but the join and the roster went to Graph, and nobody was removed or muted.
      expect(h.graph.requests.filter((r) => r.method === 'DELETE' || r.path.endsWith('/mute'))).toEqual([]);
    });

    it('needs a reason, and names one person', async () => {
      await start();
      await send(PEOPLE.olivia, '/warn <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Usage: `/warn @person <reason>`.');
      await send(PEOPLE.olivia, '/warn', []);
      expect(h.lastReply()).toBe('Who should I warn? Mention them, or give a phone number or label: `/warn @person <reason>`.');
      await send(PEOPLE.olivia, '/warn <at>Mallory</at> <at>Ann Attendee</at> stop', [PEOPLE.mallory, PEOPLE.ann]);
      expect(h.lastReply()).toBe('`/warn` takes one person at a time, and you mentioned Mallory, Ann Attendee. Send one for each.');
      expect(h.connector.notifications).toEqual([]);
      expect(h.cases()).toEqual([]);
    });

    it('a notification Teams refuses is an audited failure: nobody was warned', async () => {
      await start();
      h.connector.script('POST', /\/notification$/, [{ status: 403, body: { error: { code: 'Forbidden', message: "Bot isn't allowed to send the notification." } } }]);
      await send(PEOPLE.olivia, '/warn <at>Mallory</at> calm down', [PEOPLE.mallory]);
      expect(h.lastReply()).toMatch(/^Teams didn't complete the request, so nobody was warned\. Please tell your Bouncer administrator\. Case #1\.$/);
      expect(h.cases()[0]).toMatchObject({ action: 'warn', outcome: 'upstream_failed' });
      // No internal text reaches the chat.
      expect(h.lastReply()).not.toContain('allowed');
    });
  });

  describe('the notice before a kick (NOTIFY_REMOVED, on by default)', () => {
    it('tells the person why, privately, before the DELETE; the case says the notice was sent', async () => {
      await start();
      await send(PEOPLE.olivia, '/kick <at>Mallory</at> hate speech', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
      const [notice] = h.connector.notifications;
      expect(notice).toMatchObject({ meetingId: MEETING_ID, status: 202, body: { value: { recipients: [PEOPLE.mallory.chatId] } } });
      const deletes = h.graph.requests.filter((r) => r.method === 'DELETE');
      expect(deletes).toHaveLength(1);
      expect(notice!.at).toBeLessThan(deletes[0]!.at);
      const url = (notice!.body as { value: { surfaces: Array<{ content: { value: { url: string; title: string } } }> } }).value.surfaces[0]!.content.value;
      expect(url.title).toBe('You are being removed from this call');
      expect((await pageOf(url.url)).text).toContain('A moderator is removing you from this call. Reason: hate speech');
      expect(h.cases()[0]).toMatchObject({ action: 'kick', outcome: 'removed' });
      expect(detailOf(h.cases()[0])).toMatchObject({ notice: 'sent' });
    });

    it.each([
      ['a 403 (not allowed)', 403],
      // The Bot Connector client retries a 5xx itself: every try fails, until the notice's deadline.
      ['a 500, again and again', 500],
    ])('a notice that fails with %s still removes, and the case and the reply say the notice failed', async (_what, status) => {
      await start({ UPSTREAM_TIMEOUT_MS: '3000' });
      h.connector.script('POST', /\/notification$/, Array.from({ length: 20 }, () => ({ status })));
      await send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe("Removed **Mallory** from the call. I couldn't tell them why first: the notice didn't reach them. Case #1.");
      expect(participantOf(PEOPLE.mallory.aadObjectId)).toBeUndefined();
      expect(h.cases()[0]).toMatchObject({ outcome: 'removed', status: 'completed' });
      expect(detailOf(h.cases()[0])).toMatchObject({ notice: 'failed' });
    });

    it('a notice the Bot Connector never answers times out and the person is still removed', async () => {
      await start({ UPSTREAM_TIMEOUT_MS: '1000' });
      h.connector.hang.push(/\/notification$/);
      const started = Date.now();
      await send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe("Removed **Mallory** from the call. I couldn't tell them why first: the notice didn't reach them. Case #1.");
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(participantOf(PEOPLE.mallory.aadObjectId)).toBeUndefined();
      expect(detailOf(h.cases()[0])).toMatchObject({ notice: 'failed' });
    });

    it('a recipient Teams does not reach (207) is a failed notice', async () => {
      await start();
      h.connector.script('POST', /\/notification$/, [
        { status: 207, body: { recipientsFailureInfo: [{ recipientMri: PEOPLE.mallory.chatId, errorCode: 'MemberNotFoundInMeeting', failureReason: 'x' }] } },
      ]);
      await send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toMatch(/I couldn't tell them why first/);
      expect(detailOf(h.cases()[0])).toMatchObject({ notice: 'failed' });
    });

    it('NOTIFY_REMOVED=false sends none', async () => {
      await start({ NOTIFY_REMOVED: 'false' });
      await send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
      expect(h.connector.notifications).toEqual([]);
      expect(h.connector.calls.filter((c) => c.path.endsWith('/notification'))).toEqual([]);
      expect(detailOf(h.cases()[0])).toEqual({});
    });

    it('a /ban tells them why before its removal too; a failed notice neither stops the removal nor lifts the ban', async () => {
      await start();
      await send(PEOPLE.olivia, '/ban <at>Mallory</at> for 2h spamming', [PEOPLE.mallory]);
      expect(h.lastReply()).toMatch(/^Removed \*\*Mallory\*\* from the call and banned them from this chat's calls until .+ UTC\. Case #1\.$/);
      const [notice] = h.connector.notifications;
      expect(notice).toMatchObject({ status: 202, body: { value: { recipients: [PEOPLE.mallory.chatId] } } });
      const deletes = h.graph.requests.filter((r) => r.method === 'DELETE');
      expect(deletes).toHaveLength(1);
      expect(notice!.at).toBeLessThan(deletes[0]!.at);
      const page = (notice!.body as { value: { surfaces: Array<{ content: { value: { url: string } } }> } }).value.surfaces[0]!.content.value.url;
      expect((await pageOf(page)).text).toContain('A moderator is removing you from this call. Reason: spamming');
      expect(detailOf(h.cases()[0])).toMatchObject({ notice: 'sent' });

      h.connector.script('POST', /\/notification$/, [{ status: 403 }]);
      await send(PEOPLE.olivia, '/ban <at>Ann Attendee</at> trolling', [PEOPLE.ann]);
      expect(h.lastReply()).toMatch(/^Removed \*\*Ann Attendee\*\* from the call and banned them .+\. I couldn't tell them why first: the notice didn't reach them\. Case #2\.$/);
      expect(participantOf(PEOPLE.ann.aadObjectId)).toBeUndefined();
      expect(await h.bouncer.store.bans.get(2)).toBeDefined();
      expect(detailOf(h.cases()[1])).toMatchObject({ notice: 'failed' });
    });

    it('a dry run sends no notice', async () => {
      await start();
      await send(PEOPLE.olivia, '/kick <at>Mallory</at> --dry-run', [PEOPLE.mallory]);
      expect(h.lastReply()).toMatch(/^Dry run: I would remove \*\*Mallory\*\*/);
      expect(h.connector.notifications).toEqual([]);
    });

    it("a webhook kick notifies too, through the chat's Bot Connector, the person found by their Entra id", async () => {
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      await start({ WEBHOOK_SECRETS: secret });
      await send(PEOPLE.olivia, '/bind', []);
      await h.graph.settle();
      const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: PEOPLE.mallory.aadObjectId }, reason: 'slurs', actor: 'classifier' });
      const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(secret, raw), body: raw });
      expect(res.status).toBe(200);
      expect(h.connector.notifications).toEqual([expect.objectContaining({ status: 202, body: expect.objectContaining({ value: expect.objectContaining({ recipients: [PEOPLE.mallory.chatId] }) }) })]);
      expect(detailOf(h.cases().at(-1))).toMatchObject({ notice: 'sent' });
    });
  });

  describe('who may mute and warn (policy.ts)', () => {
    it('an attendee may not mute or warn: refused, audited, nothing sent', async () => {
      await start();
      await send(PEOPLE.ann, '/mute <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
      await send(PEOPLE.ann, '/warn <at>Mallory</at> hush', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #2.');
      expect(h.graph.requests).toEqual([]);
      expect(h.connector.notifications).toEqual([]);
      expect(h.cases().map((c) => [c.action, c.outcome])).toEqual([
        ['mute', 'denied'],
        ['warn', 'denied'],
      ]);
    });

    it('a moderator may not mute or warn the organizer (only admins may); nobody mutes themselves', async () => {
      await start();
      await send(PEOPLE.olivia, '/moderators add <at>Pete Presenter</at>', [PEOPLE.pete]);
      await send(PEOPLE.pete, '/mute <at>Olivia Organizer</at>', [PEOPLE.olivia]);
      expect(h.lastReply()).toBe('Only Bouncer admins can mute the meeting organizer. Case #2.');
      await send(PEOPLE.pete, '/warn <at>Olivia Organizer</at> be nice', [PEOPLE.olivia]);
      expect(h.lastReply()).toBe('Only Bouncer admins can warn the meeting organizer. Case #3.');
      await send(PEOPLE.pete, '/mute <at>Pete Presenter</at>', [PEOPLE.pete]);
      expect(h.lastReply()).toBe("You can't mute yourself with Bouncer; use your own microphone button. Case #4.");
      expect(h.graph.requests.filter((r) => r.path.endsWith('/mute'))).toEqual([]);
      expect(h.connector.notifications).toEqual([]);
      // The named moderator may mute anyone else.
      await send(PEOPLE.pete, '/mute <at>Mallory</at>', [PEOPLE.mallory]);
      expect(h.lastReply()).toBe('Muted **Mallory** for everyone in the call. Case #5.');
    });

    it('an admin may mute the organizer', async () => {
      await start({ ADMIN_USER_IDS: PEOPLE.ann.aadObjectId });
      await send(PEOPLE.ann, '/mute <at>Olivia Organizer</at>', [PEOPLE.olivia]);
      expect(h.lastReply()).toBe('Muted **Olivia Organizer** for everyone in the call. Case #1.');
      expect(participantOf(PEOPLE.olivia.aadObjectId)!.p.isMuted).toBe(true);
    });
  });
});
