import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contractFile } from '../support/protocol/openapi-contract.js';
import { APP_PASSWORD, BOT_CHAT_ID, MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';

const hasContracts = !!contractFile('graph_v1.0.calls.prism.yml');
if (!hasContracts) console.warn('../shared/contracts not found: Graph requests are not checked against the vendor OpenAPI document.');

describe('Teams /kick through the real server', () => {
  let h: Harness;
  beforeEach(async () => {
    // Presenters moderate in these meetings (MODERATOR_ROLES); the default is in moderators.test.ts.
    h = await startHarness({ MODERATOR_ROLES: 'organizer,coorganizer,presenter' });
  });
  afterEach(async () => {
    await h.graph.settle();
    // Every Graph request any test made must fit Microsoft's own OpenAPI document.
    expect(h.graph.violations).toEqual([]);
    // Nothing secret reaches the logs: not the app password, not any bearer token.
    const logs = h.logs.join('\n');
    expect(logs).toContain('"msg":"request"');
    expect(logs).not.toContain(APP_PASSWORD);
    expect(logs).not.toMatch(/test-token-|Bearer ey/);
    await h.close();
  });

  const graphCalls = () => h.graph.requests.map((r) => `${r.method} ${r.path.replace(/[0-9a-f-]{36}/g, ':id')}`);
  const participantIdOf = (callId: string, userId: string) =>
    [...h.graph.call(callId)!.participants.values()].find(
      (p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId,
    )?.id;

  it("an organizer's /kick joins the call, removes the right participant, replies with the case and completes it", async () => {
    expect(await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> too loud', [PEOPLE.mallory])).toBe(200);

    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    const [callId] = h.graph.callIds;
    expect(callId).toBeDefined();
    const join = h.graph.requests.find((r) => r.method === 'POST')!;
    expect(join.body).toMatchObject({
      callbackUri: `${h.bouncer.url}/api/calls`,
      chatInfo: { threadId: MEETING_CHAT_ID, messageId: '0' },
      meetingInfo: { organizer: { user: { id: PEOPLE.olivia.aadObjectId } } },
      mediaConfig: { '@odata.type': '#microsoft.graph.serviceHostedMediaConfig' },
    });
    const deleted = h.graph.requests.filter((r) => r.method === 'DELETE');
    expect(deleted).toHaveLength(1);
    // Mallory is no longer in the call; everybody else still is.
    expect(participantIdOf(callId!, PEOPLE.mallory.aadObjectId)).toBeUndefined();
    expect(participantIdOf(callId!, PEOPLE.ann.aadObjectId)).toBeDefined();
    expect(h.graph.call(callId!)!.participants.size).toBe(4);

    const [row] = h.cases();
    expect(row).toMatchObject({
      id: 1,
      status: 'completed',
      outcome: 'removed',
      source: 'chat',
      action: 'kick',
      call_id: callId,
      actor_user_id: PEOPLE.olivia.aadObjectId,
      target_user_id: PEOPLE.mallory.aadObjectId,
      target_name: 'Mallory',
      reason: 'too loud',
    });
    expect(JSON.parse(String(row!.participant_ids))).toEqual([deleted[0]!.path.split('/').at(-1)]);
    expect(row!.completed_at).toBeTruthy();
  });

  it('once the roster is warm, a kick costs one Graph request: the DELETE', async () => {
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    await h.graph.settle();
    const before = h.graph.requests.length;
    await h.send(PEOPLE.olivia, '/kick <at>Ann Attendee</at>', [PEOPLE.ann]);
    expect(h.lastReply()).toBe('Removed **Ann Attendee** from the call. Case #2.');
    expect(graphCalls().slice(before)).toEqual(['DELETE /communications/calls/:id/participants/:id']);
  });

  it("an attendee's /kick is denied, audited, and nothing is removed", async () => {
    await h.send(PEOPLE.ann, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Only the meeting organizer, its moderators and Bouncer admins can do that. Case #1.');
    expect(h.graph.requests).toEqual([]);
    expect(h.cases()[0]).toMatchObject({ status: 'completed', outcome: 'denied', actor_user_id: PEOPLE.ann.aadObjectId });
    expect(JSON.parse(String(h.cases()[0]!.detail))).toEqual({ reason: 'not_permitted' });
  });

  it('a presenter may kick an attendee but not the organizer', async () => {
    await h.send(PEOPLE.pete, '/kick <at>Olivia Organizer</at>', [PEOPLE.olivia]);
    expect(h.lastReply()).toBe("Only Bouncer admins can remove the meeting organizer. Case #1.");
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    await h.send(PEOPLE.pete, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
  });

  it('nobody kicks themselves or the bot', async () => {
    await h.send(PEOPLE.olivia, '/kick <at>Olivia Organizer</at>', [PEOPLE.olivia]);
    expect(h.lastReply()).toBe("You can't remove yourself; just leave the call. Case #1.");
    // The bot's own mention is the addressee, so name it as a second mention of the bot id.
    await h.send(PEOPLE.olivia, '/kick', [{ ...PEOPLE.mallory, chatId: BOT_CHAT_ID, name: 'Bouncer' }], { mentionBot: false });
    expect(h.lastReply()).toBe('Who should I remove? Mention them: `/kick @person [reason]`.');
    expect(h.graph.requests).toEqual([]);
  });

  it('kicking someone who is not in the call removes nobody and says so', async () => {
    await h.send(PEOPLE.olivia, '/kick <at>Nora Notincall</at>', [PEOPLE.nora]);
    expect(h.lastReply()).toBe("**Nora Notincall** is not in the call right now, so nobody was removed. Case #1.");
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    expect(h.cases()[0]).toMatchObject({ outcome: 'target_not_found', status: 'completed' });
  });

  it('a Graph 429 is retried after Retry-After, then the 204 removes the participant', async () => {
    h.graph.script('DELETE', /\/participants\//, [
      { status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } },
    ]);
    const started = Date.now();
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #1.');
    expect(h.graph.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(h.cases()[0]).toMatchObject({ outcome: 'removed' });
  });

  it('a Graph 404 means the person already left: a success for the user', async () => {
    h.graph.script('DELETE', /\/participants\//, [
      { status: 404, body: { error: { code: 'NotFound', message: 'participant not found' } } },
    ]);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('**Mallory** had already left the call. Case #1.');
    expect(h.cases()[0]).toMatchObject({ outcome: 'already_gone', status: 'completed' });
  });

  it("a Graph 403 on the removal names the tenant's missing remove-participant policy, with Graph's request-id, and is audited", async () => {
    h.graph.script('DELETE', /\/participants\//, [
      { status: 403, headers: { 'request-id': 'req-403-abc' }, body: { error: { code: 'Forbidden', message: 'no policy' } } },
    ]);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe(
      "Microsoft Graph refused the removal (request-id req-403-abc). This tenant hasn't allowed Bouncer to remove people from calls. " +
        'A Teams administrator needs to run `Set-CsApplicationMeetingConfiguration -AllowRemoveParticipantAppIds @{Add="<Bouncer\'s app id>"}` (see the README, Deploy). ' +
        'Nobody was removed. Case #1.',
    );
    expect(JSON.parse(String(h.cases()[0]!.detail))).toMatchObject({ hint: 'remove-participant-policy' });
  });

  it("any other Graph failure is reported with Graph's request-id and audited", async () => {
    h.graph.script('DELETE', /\/participants\//, [
      { status: 400, headers: { 'request-id': 'req-400-abc' }, body: { error: { code: 'BadRequest', message: 'no policy' } } },
    ]);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe(
      "Microsoft Graph didn't complete the request (request-id req-400-abc), so nobody was removed. Please tell your Bouncer administrator. Case #1.",
    );
    expect(h.cases()[0]).toMatchObject({ outcome: 'upstream_failed', status: 'completed' });
    expect(JSON.parse(String(h.cases()[0]!.detail))).toMatchObject({ service: 'graph', requestId: 'req-400-abc' });
    // The internal error text never reaches the chat.
    expect(h.lastReply()).not.toMatch(/BadRequest|no policy/);
  });

  it('when the call ends the binding ends, and the next /kick joins again', async () => {
    await h.send(PEOPLE.olivia, '/bind', []);
    expect(h.lastReply()).toBe("Connected to this meeting's call; /kick works here now. Case #1.");
    const [firstCall] = h.graph.callIds;
    await h.graph.endCall(firstCall!);
    // A roster notification that arrives after the end must not bring the roster back.
    await h.graph.settle();
    expect((await h.bouncer.store.bindings.get(MEETING_CHAT_ID))?.state).toBe('terminated');
    expect(await h.bouncer.store.roster.list(firstCall!)).toEqual([]);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]);
    expect(h.lastReply()).toBe('Removed **Mallory** from the call. Case #2.');
    expect(h.graph.callIds).toHaveLength(2);
  });

  it('a participant who joins later is found from the roster notification', async () => {
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    const [callId] = h.graph.callIds;
    await h.graph.addPerson(callId!, { userId: PEOPLE.nora.aadObjectId, displayName: PEOPLE.nora.name });
    const before = h.graph.requests.length;
    await h.send(PEOPLE.olivia, '/kick <at>Nora Notincall</at> late and loud', [PEOPLE.nora]);
    expect(h.lastReply()).toBe('Removed **Nora Notincall** from the call. Case #2.');
    expect(graphCalls().slice(before)).toEqual(['DELETE /communications/calls/:id/participants/:id']);
  });

  it('replies clearly to a missing target, too many targets and an unknown command', async () => {
    await h.send(PEOPLE.olivia, '/kick', []);
    expect(h.lastReply()).toBe('Who should I remove? Mention them: `/kick @person [reason]`.');
    const crowd = Array.from({ length: 26 }, (_, i) => ({ ...PEOPLE.mallory, chatId: `29:raider-${i}`, name: `Raider ${i}` }));
    await h.send(PEOPLE.olivia, `/kick ${crowd.map((p) => `<at>${p.name}</at>`).join(' ')} raid`, crowd);
    expect(h.lastReply()).toBe('You named 26 people, and one `/kick` removes at most 25, so I did nothing. Send it in smaller groups.');
    await h.send(PEOPLE.olivia, '/dance', []);
    expect(h.lastReply()).toBe('I don\'t know the command "dance". Try `/help`.');
    await h.send(PEOPLE.olivia, '/help', []);
    expect(h.lastReply()).toContain('`/kick @person [reason] [--dry-run]`');
    expect(h.cases()).toEqual([]);
    expect(h.graph.requests).toEqual([]);
  });

  it('a group-chat message not meant for Bouncer gets no reply', async () => {
    await h.send(PEOPLE.ann, 'lunch at noon?', [], { mentionBot: false });
    expect(h.connector.activities).toEqual([]);
  });

  it('a message without a valid Bot Framework token is refused', async () => {
    const res = await fetch(`${h.bouncer.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', text: '/kick', channelId: 'msteams', serviceUrl: h.connector.url }),
    });
    expect(res.status).toBe(401);
    expect(h.connector.activities).toEqual([]);
  });
});

describe('Graph call notifications on /api/calls', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const rosterPayload = (callId: string) => ({
    value: [
      {
        changeType: 'updated',
        resourceUrl: `/communications/calls/${callId}/participants`,
        resourceData: [{ id: 'p-1', info: { identity: { user: { id: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' } } } }],
      },
    ],
  });

  it('an unsigned POST gets 401 and changes nothing', async () => {
    const res = await fetch(`${h.bouncer.url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(rosterPayload('call-x')),
    });
    expect(res.status).toBe(401);
    expect(await h.bouncer.store.roster.list('call-x')).toEqual([]);
    // Not even a malformed body is looked at before authentication.
    const garbage = await fetch(`${h.bouncer.url}/api/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(garbage.status).toBe(401);
  });

  it('tokens with the wrong audience, issuer or signer get 401; a valid one is applied', async () => {
    const { APP_ID } = await import('../support/harness.js');
    const post = (token: string) =>
      fetch(`${h.bouncer.url}/api/calls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(rosterPayload('call-y')),
      });
    const wrongAudience = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: 'someone-else' });
    const wrongIssuer = await h.callsIssuer.sign({ iss: 'https://evil.example', aud: APP_ID });
    const wrongSigner = await h.botIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID });
    const expired = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID, expiresInSec: -3600 });
    for (const token of [wrongAudience, wrongIssuer, wrongSigner, expired, 'not-a-jwt']) {
      expect((await post(token)).status).toBe(401);
    }
    expect(await h.bouncer.store.roster.list('call-y')).toEqual([]);

    const good = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID });
    expect((await post(good)).status).toBe(202);
    expect(await h.bouncer.store.roster.list('call-y')).toMatchObject([
      { participantId: 'p-1', kind: 'user', identityId: PEOPLE.mallory.aadObjectId },
    ]);
  });

  it('a signed but malformed body gets 400', async () => {
    const { APP_ID } = await import('../support/harness.js');
    const token = await h.callsIssuer.sign({ iss: 'https://api.botframework.com', aud: APP_ID });
    const res = await fetch(`${h.bouncer.url}/api/calls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ value: 'nope' }),
    });
    expect(res.status).toBe(400);
  });
});
