import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { expectDocumented } from '../support/openapi-doc.js';
import { signedHeaders } from '../support/webhooks.js';

// Issue 12, item 3: webhook callers get an answer in bounded time. A removal still running after
// WEBHOOK_SYNC_WAIT_MS is answered 202 with its case and a Location to read it (signed GET); it
// finishes in the background (a shutdown waits for it); a retryable failure is never kept under
// the idempotency keys, so a retry with the same webhook-id acts again.

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const CHAT_ONLY = `whsec_${randomBytes(32).toString('base64')}`;
const OTHER_CONFERENCE = `whsec_${randomBytes(32).toString('base64')}`;
const SECRETS = `${SECRET}, ${CHAT_ONLY}@conversationId:${MEETING_CHAT_ID}, ${OTHER_CONFERENCE}@twilioConference:CF${'0'.repeat(32)}`;
const GET_CASE = { path: '/api/moderation/cases/{caseId}', method: 'get' } as const;

const throttled = (retryAfter: string) => ({ status: 429, headers: { 'retry-after': retryAfter }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } });
const unavailable = { status: 503, headers: { 'retry-after': '0' }, body: { error: { code: 'ServiceUnavailable', message: 'internal graph trouble' } } };

function harnessHelpers(get: () => Harness) {
  const kickBody = (over: Record<string, unknown> = {}) => ({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: PEOPLE.mallory.aadObjectId }, reason: 'spam', actor: 'classifier', ...over });
  async function kick(body: unknown, opts: { id?: string; secret?: string } = {}) {
    const raw = JSON.stringify(body);
    const res = await fetch(`${get().bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(opts.secret ?? SECRET, raw, { id: opts.id }), body: raw });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type'),
      location: res.headers.get('location'),
      replayed: res.headers.get('idempotent-replayed'),
      body: JSON.parse(text) as Record<string, unknown>,
    };
  }
  /** A signed GET (Standard Webhooks over the empty body), as a sender reads a case. */
  async function read(path: string, opts: { secret?: string; headers?: Record<string, string> } = {}) {
    const { 'content-type': _json, ...signed } = signedHeaders(opts.secret ?? SECRET, '');
    const res = await fetch(`${get().bouncer.url}${path}`, { headers: { ...signed, ...opts.headers } });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), text, body: JSON.parse(text) as Record<string, unknown> };
  }
  /** Reads the case until it is completed (or `ms` pass). */
  async function completed(path: string, ms = 10_000) {
    const until = Date.now() + ms;
    for (;;) {
      const res = await read(path);
      if (res.body.status === 'completed' || Date.now() > until) return res;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const removals = () => get().graph.requests.filter((r) => r.method === 'DELETE' && /\/participants\/[^/]+$/.test(r.path));
  const inCall = (userId: string) => {
    const [callId] = get().graph.callIds;
    return [...get().graph.call(callId!)!.participants.values()].some((p) => (p.info as { identity: { user?: { id: string } } }).identity.user?.id === userId);
  };
  const webhookCases = () => get().cases().filter((c) => c.source === 'webhook');
  return { kickBody, kick, read, completed, removals, inCall, webhookCases };
}

describe('a kick held up longer than WEBHOOK_SYNC_WAIT_MS', () => {
  let h: Harness;
  const { kickBody, kick, read, completed, removals, inCall, webhookCases } = harnessHelpers(() => h);
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRETS, WEBHOOK_SYNC_WAIT_MS: '300' });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('answers 202 with the case and its Location; the case reads pending, then removed; a duplicate gets the same 202, then the final answer', async () => {
    h.graph.script('DELETE', /\/participants\//, [throttled('2')]);
    const started = Date.now();
    const first = await kick(kickBody(), { id: 'msg_slow' });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ caseId: 2, status: 'pending' });
    expect(first.location).toBe('/api/moderation/cases/2');
    expectDocumented(first.status, first.contentType, first.body);

    const pending = await read(first.location!);
    expect(pending.status).toBe(200);
    expect(pending.body).toMatchObject({ caseId: 2, status: 'pending', action: 'kick', source: 'webhook', call: { conversationId: MEETING_CHAT_ID }, reason: 'spam' });
    expect(pending.body).not.toHaveProperty('outcome');
    expectDocumented(pending.status, pending.contentType, pending.body, GET_CASE);

    // Delivered again while it runs: the same case, not a second removal.
    const duplicate = await kick(kickBody(), { id: 'msg_slow' });
    expect(duplicate).toMatchObject({ status: 202, body: { caseId: 2, status: 'pending' }, location: '/api/moderation/cases/2', replayed: 'true' });

    const done = await completed(first.location!);
    expect(done.body).toMatchObject({
      caseId: 2,
      status: 'completed',
      outcome: 'removed',
      target: { name: 'Mallory', userId: PEOPLE.mallory.aadObjectId },
      participantIds: [expect.any(String)],
      completedAt: expect.any(String),
    });
    expectDocumented(done.status, done.contentType, done.body, GET_CASE);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    expect(removals()).toHaveLength(2); // the 429 and the removal
    expect(webhookCases()).toHaveLength(1);

    // Once done, a duplicate gets the final answer, without acting again.
    const after = await kick(kickBody(), { id: 'msg_slow' });
    expect(after).toMatchObject({ status: 200, replayed: 'true', body: { caseId: 2, outcome: 'removed' } });
    expect(after.location).toBeNull();
    expect(removals()).toHaveLength(2);
    expect(webhookCases()).toHaveLength(1);
  }, 20_000);

  it('a kick that ends with a retryable failure after its 202 is not kept: the same webhook-id then acts again', async () => {
    h.graph.script('DELETE', /\/participants\//, [throttled('1'), unavailable, unavailable, unavailable, unavailable]);
    const first = await kick(kickBody(), { id: 'msg_flaky' });
    expect(first.status).toBe(202);
    const done = await completed(first.location!);
    expect(done.body).toMatchObject({ status: 'completed', outcome: 'upstream_failed', retryable: true });
    expect(done.text).not.toContain('internal graph trouble');
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(true);

    const retry = await kick(kickBody(), { id: 'msg_flaky' });
    expect(retry.replayed).toBeNull();
    // It acts again: a new case, answered within the 300 ms wait, or (on a loaded machine) 202 then completed.
    if (retry.status === 202) {
      expect(retry.body).toEqual({ caseId: 3, status: 'pending' });
      expect((await completed(retry.location!)).body).toMatchObject({ status: 'completed', outcome: 'removed', caseId: 3 });
    } else {
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ outcome: 'removed', caseId: 3 });
    }
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    expect(webhookCases().map((c) => c.outcome)).toEqual(['upstream_failed', 'removed']);
  }, 20_000);

  it('a shutdown waits for a removal answered 202', async () => {
    h.graph.script('DELETE', /\/participants\//, [throttled('1')]);
    const first = await kick(kickBody());
    expect(first.status).toBe(202);
    await h.bouncer.close();
    // Graph's roster notification of the removal may find Bouncer already stopped.
    await h.graph.settle().catch(() => undefined);
    expect(webhookCases()).toEqual([expect.objectContaining({ status: 'completed', outcome: 'removed' })]);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
  }, 20_000);

  it('a kick that finishes within the wait is answered 200, as before', async () => {
    const res = await kick(kickBody());
    expect(res).toMatchObject({ status: 200, location: null, body: { outcome: 'removed' } });
  });
});

describe('a kick whose case is not open yet when WEBHOOK_SYNC_WAIT_MS passes', () => {
  let h: Harness;
  const { kick, read } = harnessHelpers(() => h);
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRETS, WEBHOOK_SYNC_WAIT_MS: '300' }, { twilio: true });
  });
  afterEach(async () => {
    await h.close();
  });

  // Finding the conference is throttled for a second: until then there is no case to give out.
  const slowToFind = () =>
    h.twilio!.fake.script('GET', /\/Conferences\.json$/, [{ status: 429, headers: { 'retry-after': '1' }, body: { code: 20429, message: 'Too many requests', status: 429 } }]);

  it('keeps waiting, and gives the final answer when the command ends without opening a case for a change', async () => {
    const bridge = h.twilio!.fake.addConference({ friendlyName: 'Night bridge', status: 'in-progress' });
    h.twilio!.fake.addParticipant(bridge.sid, { from: '+15550001234' });
    slowToFind();
    const started = Date.now();
    const res = await kick({ call: { twilioConference: 'Night bridge' }, target: { phoneNumber: '+15550009999' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:target-not-found' });
  }, 15_000);

  it('answers 202 as soon as the case opens', async () => {
    const bridge = h.twilio!.fake.addConference({ friendlyName: 'Night bridge', status: 'in-progress' });
    const caller = h.twilio!.fake.addParticipant(bridge.sid, { from: '+15550001234' });
    slowToFind();
    h.twilio!.fake.script('DELETE', /\/Participants\//, [{ status: 429, headers: { 'retry-after': '2' }, body: { code: 20429, message: 'Too many requests', status: 429 } }]);
    const started = Date.now();
    const res = await kick({ call: { twilioConference: 'Night bridge' }, target: { phoneNumber: '+15550001234' } });
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(900);
    expect(took).toBeLessThan(2_500);
    expect(res.status).toBe(202);
    const until = Date.now() + 10_000;
    let done = await read(res.location!);
    while (done.body.status !== 'completed' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      done = await read(res.location!);
    }
    expect(done.body).toMatchObject({ status: 'completed', outcome: 'removed', call: { twilioConference: 'Night bridge' }, callId: bridge.sid });
    expect(bridge.participants.has(caller.callSid)).toBe(false);
  }, 15_000);
});

describe('retrying the same webhook-id', () => {
  let h: Harness;
  const { kickBody, kick, removals, inCall, webhookCases } = harnessHelpers(() => h);
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRETS });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('after a retryable 503 (Graph kept failing) acts again, and succeeds', async () => {
    h.graph.script('DELETE', /\/participants\//, [unavailable, unavailable, unavailable, unavailable]);
    const first = await kick(kickBody(), { id: 'msg_retry' });
    expect(first.status).toBe(503);
    expect(first.body).toMatchObject({ type: 'urn:bouncer:problem:upstream-failure', retryable: true, caseId: 2 });
    expectDocumented(first.status, first.contentType, first.body);
    expect(removals()).toHaveLength(4);

    const retry = await kick(kickBody(), { id: 'msg_retry' });
    expect(retry.status).toBe(200);
    expect(retry.replayed).toBeNull();
    expect(retry.body).toMatchObject({ outcome: 'removed', caseId: 3 });
    expect(removals()).toHaveLength(5);
    expect(inCall(PEOPLE.mallory.aadObjectId)).toBe(false);
    expect(webhookCases().map((c) => c.outcome)).toEqual(['upstream_failed', 'removed']);
  });

  it('after a non-retryable answer replays it, acting once', async () => {
    const missing = await kick(kickBody({ target: { userId: PEOPLE.nora.aadObjectId } }), { id: 'msg_nora' });
    expect(missing.status).toBe(404);
    const again = await kick(kickBody({ target: { userId: PEOPLE.nora.aadObjectId } }), { id: 'msg_nora' });
    expect(again).toMatchObject({ status: 404, replayed: 'true', body: missing.body });

    h.graph.script('DELETE', /\/participants\//, [{ status: 403, body: { error: { code: 'Forbidden', message: 'policy' } } }]);
    const refused = await kick(kickBody(), { id: 'msg_forbidden' });
    expect(refused.status).toBe(502);
    const refusedAgain = await kick(kickBody(), { id: 'msg_forbidden' });
    expect(refusedAgain).toMatchObject({ status: 502, replayed: 'true', body: refused.body });
    expect(removals()).toHaveLength(1);
    expect(webhookCases()).toHaveLength(2);
  });
});

describe('GET /api/moderation/cases/{caseId}', () => {
  let h: Harness;
  const { kickBody, kick, read } = harnessHelpers(() => h);
  const notFound = { type: 'urn:bouncer:problem:case-not-found', title: 'No such case', status: 404 };
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRETS }, { twilio: true });
    await h.send(PEOPLE.olivia, '/bind', []); // case 1, from the chat
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  it('refuses an unsigned or badly signed read with 401', async () => {
    const unsigned = await fetch(`${h.bouncer.url}/api/moderation/cases/1`);
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get('content-type')).toBe('application/problem+json');
    expect(await unsigned.json()).toEqual({ type: 'urn:bouncer:problem:unauthorized', title: 'The request is not signed with a valid secret', status: 401 });
    const wrong = await read('/api/moderation/cases/1', { secret: `whsec_${randomBytes(32).toString('base64')}` });
    expect(wrong.status).toBe(401);
    expectDocumented(wrong.status, wrong.contentType, wrong.body, GET_CASE);
    // A signature over a body is not one over the empty body the GET has.
    const overBody = signedHeaders(SECRET, '{}');
    expect((await fetch(`${h.bouncer.url}/api/moderation/cases/1`, { headers: overBody })).status).toBe(401);
  });

  it('answers 404 for an unknown or malformed id', async () => {
    for (const id of ['999', '0', 'abc', '1e3', '-1', '99999999999999999999']) {
      const res = await read(`/api/moderation/cases/${id}`);
      expect(res.status, id).toBe(404);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.body).toEqual(notFound);
    }
    expectDocumented(404, 'application/problem+json', notFound, GET_CASE);
  });

  it('shows a chat case to an unscoped secret and to one scoped to that chat, and to no other', async () => {
    const res = await read('/api/moderation/cases/1');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ caseId: 1, status: 'completed', action: 'bind', source: 'chat', outcome: 'bound', call: { conversationId: MEETING_CHAT_ID } });
    expectDocumented(res.status, res.contentType, res.body, GET_CASE);
    expect((await read('/api/moderation/cases/1', { secret: CHAT_ONLY })).status).toBe(200);
    // Scoped to another call: the same answer as an unknown case.
    const refused = await read('/api/moderation/cases/1', { secret: OTHER_CONFERENCE });
    expect(refused.status).toBe(404);
    expect(refused.body).toEqual(notFound);
  });

  it('a scoped secret reads the cases of its calls only, as the request named the call', async () => {
    const bridge = h.twilio!.fake.addConference({ friendlyName: 'Other bridge', status: 'in-progress' });
    h.twilio!.fake.addParticipant(bridge.sid, { from: '+15550000001', label: 'Mallory' });
    const onBridge = await kick({ call: { twilioConference: bridge.sid }, target: { label: 'Mallory' } });
    expect(onBridge.status).toBe(200);
    const caseId = onBridge.body.caseId as number;

    const shown = await read(`/api/moderation/cases/${caseId}`);
    expect(shown.body).toMatchObject({ caseId, source: 'webhook', outcome: 'removed', call: { twilioConference: bridge.sid }, callId: bridge.sid });
    expect((await read(`/api/moderation/cases/${caseId}`, { secret: CHAT_ONLY })).body).toEqual(notFound);

    const inChat = await kick(kickBody(), { secret: CHAT_ONLY });
    expect(inChat.status).toBe(200);
    expect((await read(`/api/moderation/cases/${String(inChat.body.caseId)}`, { secret: CHAT_ONLY })).status).toBe(200);
    expect((await read(`/api/moderation/cases/${String(inChat.body.caseId)}`, { secret: OTHER_CONFERENCE })).body).toEqual(notFound);
  });

  it('shows no internal text: no upstream message, no actor of the chat, no idempotency keys', async () => {
    h.graph.script('DELETE', /\/participants\//, [{ status: 403, headers: { 'request-id': 'req-9' }, body: { error: { code: 'Forbidden', message: 'tenant policy forbids it' } } }]);
    const failed = await kick(kickBody(), { id: 'msg_secret_text' });
    expect(failed.status).toBe(502);
    const res = await read(`/api/moderation/cases/${String(failed.body.caseId)}`);
    expect(res.body).toMatchObject({ status: 'completed', outcome: 'upstream_failed', retryable: false });
    expect(res.text).not.toMatch(/tenant policy|msg_secret_text|webhook-id|classifier/);
    await h.send(PEOPLE.olivia, '/kick <at>Mallory</at> spam', [PEOPLE.mallory]);
    const chatCase = h.cases().at(-1)!;
    const fromChat = await read(`/api/moderation/cases/${String(chatCase.id)}`);
    expect(fromChat.body).toMatchObject({ source: 'chat', action: 'kick', reason: 'spam' });
    expect(fromChat.text).not.toContain(PEOPLE.olivia.name);
  });
});
