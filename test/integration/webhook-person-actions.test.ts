import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SandboxConference } from '../../tools/sandbox/protocol/twilio-server.js';
import { MEETING_CHAT_ID, PEOPLE, TENANT_ID, startHarness, type Harness } from '../support/harness.js';
import { expectDocumented } from '../support/openapi-doc.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 13, item 5: POST /api/moderation/ban, /unban, /mute, /unmute and /warn, with the kick's
// body, signatures, idempotency, 202 and problem+json, through the same commands, policy and
// audit as the chat (source `webhook`). Every Graph and Twilio request is checked against the
// vendors' OpenAPI documents (the sandbox's `violations`).

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_CONFERENCE = `whsec_${randomBytes(32).toString('base64')}`;
const SECRETS = `${SECRET}, ${OTHER_CONFERENCE}@twilioConference:Other bridge`;

const unavailable = { status: 503, headers: { 'retry-after': '0' }, body: { error: { code: 'ServiceUnavailable', message: 'internal graph trouble' } } };
const throttled = (retryAfter: string) => ({ status: 429, headers: { 'retry-after': retryAfter }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } });

/** Waits for a condition (a change answered 202 finishes in the background). */
async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !condition(); ) {
    if (Date.now() > end) throw new Error('the condition did not come true in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

type Action = 'ban' | 'unban' | 'mute' | 'unmute' | 'warn';

describe('the webhook API for ban, unban, mute, unmute and warn, through the real server', () => {
  let h: Harness;
  let bridge: SandboxConference;
  const caller = '+15550000001';

  const start = async (env: Record<string, string> = {}) => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRETS, ...env }, { twilio: true });
    bridge = h.twilio!.fake.addConference({ friendlyName: 'Support bridge', status: 'in-progress' });
    h.twilio!.fake.addParticipant(bridge.sid, { from: caller, label: 'Caller' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  };
  beforeEach(async () => {
    await start();
  });
  afterEach(async () => {
    await h.graph.settle();
    await h.twilio!.fake.settle();
    // Every request Bouncer made fits Graph's and Twilio's own OpenAPI documents.
    expect(h.graph.violations).toEqual([]);
    expect(h.twilio!.fake.violations).toEqual([]);
    await h.close();
  });

  const chat = { conversationId: MEETING_CHAT_ID };
  const mallory = { userId: PEOPLE.mallory.aadObjectId };
  const ann = { userId: PEOPLE.ann.aadObjectId };

  async function post(action: Action | 'kick', body: unknown, opts: { id?: string; secret?: string; headers?: Record<string, string> } = {}) {
    const raw = JSON.stringify(body);
    const res = await fetch(`${h.bouncer.url}/api/moderation/${action}`, {
      method: 'POST',
      headers: { ...signedHeaders(opts.secret ?? SECRET, raw, { id: opts.id }), ...opts.headers },
      body: raw,
    });
    const text = await res.text();
    const answer = {
      status: res.status,
      contentType: res.headers.get('content-type'),
      location: res.headers.get('location'),
      replayed: res.headers.get('idempotent-replayed'),
      body: JSON.parse(text) as Record<string, unknown>,
    };
    // Every answer is the one the committed OpenAPI document describes for its route.
    expectDocumented(answer.status, answer.contentType, answer.body, { path: `/api/moderation/${action}`, method: 'post' });
    return answer;
  }
  const callId = () => h.graph.callIds[0]!;
  const participantOf = (userId: string) =>
    [...h.graph.call(callId())!.participants.values()].find((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId);
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE' && /\/participants\/[^/]+$/.test(r.path));
  const graphMutes = () => h.graph.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/mute'));
  const webhookCases = () => h.cases().filter((c) => c.source === 'webhook');
  const detailOf = (row: Record<string, unknown> | undefined) => JSON.parse(String(row?.detail)) as Record<string, unknown>;

  describe('POST /api/moderation/ban', () => {
    it('removes the person, bans them for the ISO 8601 duration (PT30M), audits it as a webhook case, and undoes a rejoin', async () => {
      const res = await post('ban', { call: chat, target: mallory, reason: 'raid', actor: 'classifier', duration: 'PT30M' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ action: 'ban', outcome: 'banned', removed: true, callId: callId(), target: { userId: mallory.userId, displayName: 'Mallory' } });
      const caseId = res.body.caseId as number;
      expect(deletes()).toHaveLength(1);
      expect(participantOf(mallory.userId)).toBeUndefined();
      const ban = await h.bouncer.store.bans.get(caseId);
      expect(ban).toMatchObject({ scope: MEETING_CHAT_ID, identities: [{ kind: 'user', value: mallory.userId }], reason: 'raid', createdByName: 'classifier' });
      expect(Date.parse(ban!.expiresAt!) - Date.parse(ban!.createdAt)).toBe(30 * 60_000);
      expect(res.body.expiresAt).toBe(ban!.expiresAt);
      expect(webhookCases()).toEqual([expect.objectContaining({ action: 'ban', outcome: 'banned', actor_name: 'classifier', reason: 'raid', status: 'completed' })]);
      // The chat bound to the call is told, as of a system's kick.
      const note = await h.connector.waitForActivity((a) => /moderation system/.test(String(a.activity.text)));
      expect(note.conversationId).toBe(MEETING_CHAT_ID);
      expect(note.activity.text).toMatch(
        new RegExp(`^\\*\\*Mallory\\*\\* was removed from the call and banned from this chat's calls until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC by the moderation system \\*\\*classifier\\*\\*\\. Reason: raid\\. Case #${caseId}\\.$`),
      );

      // The ban holds: a rejoin is removed by the enforcer, as for a chat ban.
      const rejoined = await h.graph.addPerson(callId(), { userId: mallory.userId, displayName: 'Mallory' });
      expect(h.graph.call(callId())!.participants.has(rejoined)).toBe(false);
      expect(detailOf(h.cases().find((c) => c.source === 'auto'))).toMatchObject({ banCaseId: caseId });
    });

    it('a dry run resolves and authorizes, bans and removes nobody, and is recorded as a dry run', async () => {
      const res = await post('ban', { call: chat, target: mallory, dryRun: true, duration: 'P7D' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        caseId: expect.any(Number),
        action: 'ban',
        outcome: 'dry_run',
        callId: callId(),
        participantIds: [participantOf(mallory.userId)!.id],
        target: { userId: mallory.userId, displayName: 'Mallory' },
      });
      expect(deletes()).toEqual([]);
      expect(await h.bouncer.store.bans.listActive([MEETING_CHAT_ID, '*'], new Date().toISOString(), 10)).toEqual([]);
      expect(webhookCases()).toEqual([expect.objectContaining({ action: 'ban', outcome: 'dry_run' })]);
    });

    it.each([
      ['P2W', 14 * 86_400_000],
      ['P1DT12H', 36 * 3600_000],
      ['PT90S', 90_000],
      ['P365D', 365 * 86_400_000],
    ])('takes the duration %s', async (duration, ms) => {
      const res = await post('ban', { call: chat, target: { phoneNumber: '+15550009999' }, duration });
      expect(res.status).toBe(200);
      const ban = await h.bouncer.store.bans.get(res.body.caseId as number);
      expect(Date.parse(ban!.expiresAt!) - Date.parse(ban!.createdAt)).toBe(ms);
    });

    it.each([
      ['P1M', /years and months have no fixed length/],
      ['P1Y', /years and months have no fixed length/],
      ['PT1.5H', /whole numbers only/],
      ['30m', /not an ISO 8601 duration such as PT30M/],
      ['P', /not an ISO 8601 duration/],
      ['PT', /not an ISO 8601 duration/],
      ['P1DT', /not an ISO 8601 duration/],
      ['P366D', /too long: at most P365D \(365 days\)/],
      ['P999999999W', /too long: at most P365D/],
      ['PT59S', /too short: at least PT1M/],
      ['PT0S', /too short/],
    ])('refuses the duration %s with a 400 saying why and the maximum, acting on nobody', async (duration, message) => {
      const res = await post('ban', { call: chat, target: mallory, duration });
      expect(res.status).toBe(400);
      expect(res.contentType).toContain('application/problem+json');
      expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:invalid-body', errors: [{ path: 'duration', message: expect.stringMatching(message) }] });
      expect(String((res.body.errors as Array<{ message: string }>)[0]!.message)).toContain('P365D');
      expect(deletes()).toEqual([]);
      expect(h.cases()).toHaveLength(1); // the /bind only
    });

    it('bans several targets at once, each its own case and answer, in order', async () => {
      const res = await post('ban', { call: chat, targets: [mallory, ann, { phoneNumber: '+15550008888' }], reason: 'raid', duration: 'PT2H' });
      expect(res.status).toBe(200);
      const results = res.body.results as Array<Record<string, unknown>>;
      expect(results.map((r) => [r.outcome, r.removed, (r.target as Record<string, unknown>).displayName ?? (r.target as Record<string, unknown>).phoneNumber])).toEqual([
        ['banned', true, 'Mallory'],
        ['banned', true, 'Ann Attendee'],
        ['banned', false, '+15550008888'],
      ]);
      expect(new Set(results.map((r) => r.caseId)).size).toBe(3);
      expect(deletes()).toHaveLength(2);
      expect(webhookCases().map((c) => [c.action, c.outcome])).toEqual([
        ['ban', 'banned'],
        ['ban', 'banned'],
        ['ban', 'banned'],
      ]);
    });

    it('a replayed webhook-id gets the first answer and bans once; the same id on another route is refused (422), not answered with this one', async () => {
      const body = { call: chat, target: mallory, reason: 'raid' };
      const first = await post('ban', body, { id: 'msg_ban_once' });
      const again = await post('ban', body, { id: 'msg_ban_once' });
      expect(again.status).toBe(200);
      expect(again.body).toEqual(first.body);
      expect(again.replayed).toBe('true');
      expect(deletes()).toHaveLength(1);
      expect(webhookCases()).toHaveLength(1);
      // A kick body is a ban body without the duration: the same id on another route is not answered with the ban's answer.
      for (const [action, other] of [['kick', body], ['unban', { call: chat, target: mallory }]] as const) {
        const res = await post(action, other, { id: 'msg_ban_once' });
        expect(res.status).toBe(422);
        expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:idempotency-key-reused' });
      }
      expect(webhookCases()).toHaveLength(1);
      expect(await h.bouncer.store.bans.get(first.body.caseId as number)).toMatchObject({ liftedAt: undefined });
    });

    it('answers 202 with the case and its Location when the removal is held up past WEBHOOK_SYNC_WAIT_MS, then completes', async () => {
      await h.close();
      await start({ WEBHOOK_SYNC_WAIT_MS: '200' });
      h.graph.script('DELETE', /\/participants\//, [throttled('2')]);
      const res = await post('ban', { call: chat, target: mallory, duration: 'PT1H' });
      expect(res.status).toBe(202);
      expect(res.body).toEqual({ caseId: expect.any(Number), status: 'pending' });
      expect(res.location).toBe(`/api/moderation/cases/${String(res.body.caseId)}`);
      await until(() => h.cases().find((c) => c.id === res.body.caseId)?.status === 'completed');
      expect(h.cases().find((c) => c.id === res.body.caseId)).toMatchObject({ action: 'ban', outcome: 'banned', status: 'completed', source: 'webhook' });
      expect(participantOf(mallory.userId)).toBeUndefined();
    });

    it('a call bound to no chat has no calls to keep anyone out of: 409 not-bound, nobody removed', async () => {
      const res = await post('ban', { call: { twilioConference: bridge.sid }, target: { phoneNumber: caller } });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:not-bound', reason: 'no_binding' });
      expect(h.twilio!.fake.requests.filter((r) => r.method === 'DELETE')).toEqual([]);
    });
  });

  describe('POST /api/moderation/unban', () => {
    it('lifts the bans naming a target, or one ban by its caseId; a dry run lifts nothing and says which it would', async () => {
      const banned = await post('ban', { call: chat, target: mallory });
      const other = await post('ban', { call: chat, target: { phoneNumber: '+15550007777' } });
      const ids = [banned.body.caseId as number, other.body.caseId as number];

      const dry = await post('unban', { call: chat, target: mallory, dryRun: true });
      expect(dry.status).toBe(200);
      expect(dry.body).toEqual({ caseId: expect.any(Number), action: 'unban', outcome: 'dry_run', target: { userId: mallory.userId, displayName: 'Mallory' }, banCaseIds: [ids[0]] });
      expect(await h.bouncer.store.bans.get(ids[0]!)).toMatchObject({ liftedAt: undefined });

      const lifted = await post('unban', { call: chat, target: mallory, reason: 'appeal granted', actor: 'appeals-bot' });
      expect(lifted.body).toMatchObject({ action: 'unban', outcome: 'unbanned', banCaseIds: [ids[0]] });
      expect((await h.bouncer.store.bans.get(ids[0]!))!.liftedAt).toBeDefined();
      const byCase = await post('unban', { call: chat, caseId: ids[1] });
      expect(byCase.body).toMatchObject({ outcome: 'unbanned', banCaseIds: [ids[1]] });
      const nothing = await post('unban', { call: chat, caseId: ids[1] });
      expect(nothing.body).toMatchObject({ outcome: 'unbanned', banCaseIds: [] });
      expect(webhookCases().filter((c) => c.action === 'unban').map((c) => c.outcome)).toEqual(['dry_run', 'unbanned', 'unbanned', 'unbanned']);
      expect(webhookCases().find((c) => c.reason === 'appeal granted')).toMatchObject({ actor_name: 'appeals-bot' });
      const note = await h.connector.waitForActivity((a) => /appeals-bot/.test(String(a.activity.text)));
      expect(note.activity.text).toBe(
        `The ban #${ids[0]} on **Mallory** was lifted by the moderation system **appeals-bot**: they can join again. Reason: appeal granted. Case #${String(lifted.body.caseId)}.`,
      );

      // Mallory may come back now.
      const back = await h.graph.addPerson(callId(), { userId: mallory.userId, displayName: 'Mallory' });
      await h.graph.settle();
      expect(h.graph.call(callId())!.participants.has(back)).toBe(true);
    });

    it('takes several targets; refuses a body with both target and caseId, or neither, or a call leg', async () => {
      await post('ban', { call: chat, targets: [mallory, ann] });
      const both = await post('unban', { call: chat, targets: [mallory, ann] });
      expect((both.body.results as Array<Record<string, unknown>>).map((r) => r.outcome)).toEqual(['unbanned', 'unbanned']);
      for (const body of [{ call: chat, target: mallory, caseId: 1 }, { call: chat }, { call: chat, target: { callSid: `CA${'1'.repeat(32)}` } }]) {
        const res = await post('unban', body);
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:invalid-body' });
      }
      expect((await post('unban', { call: chat, target: mallory, caseId: 1 })).body).toMatchObject({ errors: [{ path: '(body)', message: 'name the ban by `target` or by `caseId` (exactly one)' }] });
    });
  });

  describe('POST /api/moderation/mute and /unmute', () => {
    it("mutes through Graph's participant mute; a dry run sends nothing; several targets each get an answer", async () => {
      const dry = await post('mute', { call: chat, target: mallory, dryRun: true });
      expect(dry.body).toMatchObject({ action: 'mute', outcome: 'dry_run', participantIds: [participantOf(mallory.userId)!.id] });
      expect(graphMutes()).toEqual([]);

      const res = await post('mute', { call: chat, target: mallory, reason: 'shouting', actor: 'noise-detector' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ caseId: expect.any(Number), action: 'mute', outcome: 'muted', callId: callId(), participantIds: [participantOf(mallory.userId)!.id], target: { userId: mallory.userId, displayName: 'Mallory' } });
      expect(graphMutes().map((r) => r.path)).toEqual([`/communications/calls/${callId()}/participants/${participantOf(mallory.userId)!.id}/mute`]);
      expect(participantOf(mallory.userId)!.isMuted).toBe(true);
      const note = await h.connector.waitForActivity((a) => /moderation system/.test(String(a.activity.text)));
      expect(note.activity.text).toBe(`**Mallory** was muted for everyone in the call by the moderation system **noise-detector**. Reason: shouting. Case #${String(res.body.caseId)}.`);

      const bulk = await post('mute', { call: chat, targets: [ann, { userId: PEOPLE.pete.aadObjectId }] });
      expect((bulk.body.results as Array<Record<string, unknown>>).map((r) => r.outcome)).toEqual(['muted', 'muted']);
      expect(graphMutes()).toHaveLength(3);
      expect(webhookCases().map((c) => [c.action, c.outcome])).toEqual([
        ['mute', 'dry_run'],
        ['mute', 'muted'],
        ['mute', 'muted'],
        ['mute', 'muted'],
      ]);
    });

    it('on Teams, /unmute answers 501 saying only they can unmute themselves, and sends nothing', async () => {
      await post('mute', { call: chat, target: mallory });
      const before = h.graph.requests.length;
      const res = await post('unmute', { call: chat, target: mallory });
      expect(res.status).toBe(501);
      expect(res.body).toMatchObject({
        type: 'urn:bouncer:problem:unsupported',
        detail: "Only the person can unmute themselves in Teams calls: Bouncer can't unmute someone else there, so nothing was sent.",
        retryable: false,
      });
      expect(h.graph.requests.slice(before)).toEqual([]);
      expect(webhookCases().at(-1)).toMatchObject({ action: 'unmute', outcome: 'unsupported' });
    });

    it('on Twilio, mutes and unmutes a caller of a conference named directly (Muted=true, then false)', async () => {
      const call = { twilioConference: bridge.sid };
      const [sid] = [...bridge.participants.keys()];
      expect((await post('mute', { call, target: { phoneNumber: caller } })).body).toMatchObject({ outcome: 'muted', callId: bridge.sid, participantIds: [sid] });
      expect(bridge.participants.get(sid!)!.muted).toBe(true);
      expect((await post('unmute', { call, target: { label: 'Caller' } })).body).toMatchObject({ action: 'unmute', outcome: 'unmuted' });
      expect(bridge.participants.get(sid!)!.muted).toBe(false);
      const updates = h.twilio!.fake.requests.filter((r) => r.method === 'POST' && r.path.includes('/Participants/'));
      expect(updates.map((r) => r.form)).toEqual([{ Muted: 'true' }, { Muted: 'false' }]);
    });

    it('a retryable failure is not kept: the same webhook-id acts again and succeeds', async () => {
      h.graph.script('POST', /\/mute$/, [unavailable, unavailable, unavailable, unavailable]);
      const first = await post('mute', { call: chat, target: mallory }, { id: 'msg_mute_retry' });
      expect(first.status).toBe(503);
      expect(first.body).toMatchObject({ type: 'urn:bouncer:problem:upstream-failure', retryable: true });
      expect(participantOf(mallory.userId)!.isMuted).toBe(false);
      const again = await post('mute', { call: chat, target: mallory }, { id: 'msg_mute_retry' });
      expect(again.status).toBe(200);
      expect(again.replayed).toBeNull();
      expect(again.body).toMatchObject({ outcome: 'muted' });
      expect(participantOf(mallory.userId)!.isMuted).toBe(true);
    });
  });

  describe('POST /api/moderation/warn', () => {
    it('warns privately through a targeted meeting notification; the reason is required; a dry run sends nothing', async () => {
      const dry = await post('warn', { call: chat, target: mallory, reason: 'language', dryRun: true });
      expect(dry.body).toMatchObject({ action: 'warn', outcome: 'dry_run' });
      expect(h.connector.notifications).toEqual([]);
      const res = await post('warn', { call: chat, target: mallory, reason: 'language', actor: 'classifier' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ action: 'warn', outcome: 'warned', target: { displayName: 'Mallory' } });
      expect(h.connector.notifications).toEqual([expect.objectContaining({ status: 202, body: expect.objectContaining({ value: expect.objectContaining({ recipients: [PEOPLE.mallory.chatId] }) }) })]);
      expect(webhookCases().at(-1)).toMatchObject({ action: 'warn', outcome: 'warned', reason: 'language', actor_name: 'classifier' });
      // A warning is private: the chat is not told of it.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(h.connector.activities.filter((a) => /moderation system/.test(String(a.activity.text)))).toEqual([]);

      const noReason = await post('warn', { call: chat, target: mallory });
      expect(noReason.status).toBe(400);
      expect(noReason.body).toMatchObject({ errors: [{ path: 'reason' }] });
    });
    it('someone who is not a member of the meeting chat cannot be warned privately: 409 not-reachable, audited, nothing sent, no failure logged', async () => {
      const guest = { userId: randomUUID(), displayName: 'Raider', tenantId: TENANT_ID };
      await h.graph.addPerson(callId(), guest);
      const logged = h.logs.length;
      const res = await post('warn', { call: chat, target: { userId: guest.userId }, reason: 'language' });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({
        type: 'urn:bouncer:problem:not-reachable',
        title: 'The person cannot be notified privately',
        retryable: false,
        detail: expect.stringContaining('cannot be notified privately'),
      });
      expect(h.connector.notifications).toEqual([]);
      expect(webhookCases().at(-1)).toMatchObject({ action: 'warn', outcome: 'not_reachable', status: 'completed' });
      expect(JSON.parse(String(webhookCases().at(-1)!.detail))).toMatchObject({ why: 'not_a_chat_member' });
      expect(h.logs.slice(logged).filter((l) => l.includes('upstream failure'))).toEqual([]);
    });
  });

  describe('authentication and the policy, for every route', () => {
    const bodies: Record<Action, Record<string, unknown>> = {
      ban: { target: mallory, duration: 'PT1H' },
      unban: { target: mallory },
      mute: { target: mallory },
      unmute: { target: { phoneNumber: caller } },
      warn: { target: mallory, reason: 'language' },
    };
    const actions = Object.keys(bodies) as Action[];

    it.each(actions)('/%s refuses a wrong secret with 401, acting on nobody and recording nothing', async (action) => {
      const res = await post(action, { call: chat, ...bodies[action] }, { secret: `whsec_${randomBytes(32).toString('base64')}` });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ type: 'urn:bouncer:problem:unauthorized', title: 'The request is not signed with a valid secret', status: 401 });
      expect(h.cases()).toHaveLength(1); // the /bind only
      expect(deletes()).toEqual([]);
      expect(graphMutes()).toEqual([]);
    });

    it.each(actions)('/%s with a secret scoped to another conference: 403 not-authorized, audited as a denied webhook case, nothing done', async (action) => {
      const res = await post(action, { call: chat, ...bodies[action] }, { secret: OTHER_CONFERENCE });
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:not-authorized', reason: 'not_permitted', retryable: false });
      expect(webhookCases()).toEqual([expect.objectContaining({ action, outcome: 'denied', source: 'webhook' })]);
      expect(deletes()).toEqual([]);
      expect(graphMutes()).toEqual([]);
      expect(h.connector.notifications).toEqual([]);
      expect(await h.bouncer.store.bans.listActive([MEETING_CHAT_ID, '*'], new Date().toISOString(), 10)).toEqual([]);
    });
  });
});
