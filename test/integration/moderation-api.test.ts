import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../src/channels/webhook/openapi.js';
import { webhookCallSyntaxes } from '../../src/providers/index.js';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { doc, expectDocumented } from '../support/openapi-doc.js';
import { signedHeaders } from '../support/webhooks.js';

const SECRET_OLD = `whsec_${randomBytes(32).toString('base64')}`;
const SECRET_NEW = `whsec_${randomBytes(32).toString('base64')}`;

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.1 and is exactly what the code generates (run `npm run openapi` after a change)', async () => {
    const result = await new Validator().validate(doc as unknown as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(buildOpenApiDocument(version, webhookCallSyntaxes())).toEqual(doc);
  });

  it('documents the 202 with its Location, bulk kicks, and reading a case (issue 12, items 3 and 4)', () => {
    const kick = doc.paths['/api/moderation/kick']!.post!;
    expect(kick.responses['202']!.headers).toHaveProperty('Location');
    expect(kick.responses['202']!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/KickAccepted' });
    expect(kick.requestBody!.content['application/json']!.schema).toEqual({
      oneOf: [{ $ref: '#/components/schemas/KickRequest' }, { $ref: '#/components/schemas/BulkKickRequest' }],
    });
    expect(doc.components.schemas.BulkKickRequest).toMatchObject({ properties: { targets: { type: 'array', minItems: 1, maxItems: 100 } }, required: expect.arrayContaining(['targets', 'call']) });
    expect(doc.components.schemas.KickResponse).toEqual({ oneOf: [{ $ref: '#/components/schemas/KickResult' }, { $ref: '#/components/schemas/BulkKickResult' }] });
    const read = doc.paths['/api/moderation/cases/{caseId}']!.get!;
    expect(read.parameters!.map((p) => `${p.in}:${p.name}`)).toEqual(['path:caseId', 'header:webhook-id', 'header:webhook-timestamp', 'header:webhook-signature']);
    expect(Object.keys(read.responses).sort()).toEqual(['200', '401', '404', '503']);
    expect(read.responses['200']!.content['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Case' });
    // The kick's 404 does not list the case route's problem.
    expect(JSON.stringify(kick.responses['404'])).not.toContain('case-not-found');
  });
});

describe('POST /api/moderation/kick', () => {
  let h: Harness;
  beforeAll(() => {
    expect(SECRET_OLD).not.toBe(SECRET_NEW);
  });
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: `${SECRET_NEW},${SECRET_OLD}` }, { twilio: true });
    // The organizer binds the meeting chat, so the call is known and the roster warm.
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  const kickBody = (over: Record<string, unknown> = {}) => ({
    call: { conversationId: MEETING_CHAT_ID },
    target: { userId: PEOPLE.mallory.aadObjectId },
    reason: 'slurs detected',
    actor: 'toxicity-classifier',
    ...over,
  });

  async function post(
    body: unknown,
    opts: { secret?: string; id?: string; at?: Date; headers?: Record<string, string>; tamper?: (raw: string) => string; contentType?: string } = {},
  ) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const signed = signedHeaders(opts.secret ?? SECRET_NEW, raw, { id: opts.id, at: opts.at });
    const id = signed['webhook-id']!;
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, {
      method: 'POST',
      headers: { ...signed, 'content-type': opts.contentType ?? 'application/json', ...opts.headers },
      body: opts.tamper ? opts.tamper(raw) : raw,
    });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined, id };
  }
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE');

  it('removes the participant, answers 200 with the case, and tells the bound chat', async () => {
    const res = await post(kickBody());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed', caseId: 2, target: { userId: PEOPLE.mallory.aadObjectId, displayName: 'Mallory' } });
    expectDocumented(res.status, res.contentType, res.body);
    expect(deletes()).toHaveLength(1);
    const note = await h.connector.waitForActivity((a) => /moderation system/.test(String(a.activity.text)));
    expect(note.conversationId).toBe(MEETING_CHAT_ID);
    expect(note.activity.text).toBe(
      '**Mallory** was removed from the call by the moderation system **toxicity-classifier**. Reason: slurs detected. Case #2.',
    );
    expect(h.cases()[1]).toMatchObject({ source: 'webhook', actor_name: 'toxicity-classifier', outcome: 'removed', reason: 'slurs detected' });
  });

  it('accepts the older secret during rotation', async () => {
    expect((await post(kickBody(), { secret: SECRET_OLD })).status).toBe(200);
  });

  it.each([
    ['a wrong secret', { secret: `whsec_${randomBytes(32).toString('base64')}` }],
    ['a changed body', { tamper: (raw: string) => raw.replace('slurs', 'words') }],
    ['a stale timestamp', { at: new Date(Date.now() - 6 * 60_000) }],
    ['a future timestamp', { at: new Date(Date.now() + 6 * 60_000) }],
    ['a missing signature', { headers: { 'webhook-signature': '' } }],
    ['a missing id', { headers: { 'webhook-id': '' } }],
  ])('refuses %s with 401, removing nobody and revealing nothing', async (_name, opts) => {
    const res = await post(kickBody(), opts);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ type: 'urn:bouncer:problem:unauthorized', title: 'The request is not signed with a valid secret', status: 401 });
    expectDocumented(res.status, res.contentType, res.body);
    expect(deletes()).toEqual([]);
    expect(JSON.stringify(res.body)).not.toContain(SECRET_NEW.slice(6, 20));
  });

  it('a replayed id returns the first response and acts once; the same id with another body is refused', async () => {
    const first = await post(kickBody(), { id: 'msg_replay' });
    const again = await post(kickBody(), { id: 'msg_replay' });
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(deletes()).toHaveLength(1);
    const other = await post(kickBody({ reason: 'something else' }), { id: 'msg_replay' });
    expect(other.status).toBe(422);
    expect(other.body).toMatchObject({ type: 'urn:bouncer:problem:idempotency-key-reused' });
    expectDocumented(other.status, other.contentType, other.body);
  });

  it('Idempotency-Key narrows webhook-id: two signed messages with one key act once', async () => {
    await post(kickBody(), { headers: { 'idempotency-key': 'job-42' } });
    const again = await post(kickBody(), { headers: { 'idempotency-key': 'job-42' } });
    expect(again.status).toBe(200);
    expect(deletes()).toHaveLength(1);
  });

  it('two concurrent deliveries of the same id remove once and get the same answer', async () => {
    h.graph.script('DELETE', /\/participants\//, [{ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'x' } } }]);
    const [a, b] = await Promise.all([post(kickBody(), { id: 'msg_twice' }), post(kickBody(), { id: 'msg_twice' })]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body).toEqual(b.body);
    expect(h.cases().filter((c) => c.source === 'webhook')).toHaveLength(1);
    expect(h.graph.requests.filter((r) => r.method === 'DELETE' && !r.path.endsWith('/participants'))).toHaveLength(2); // the 429 and its retry
  });

  it('a malformed body gets 400 with what is wrong, and removes nobody', async () => {
    const res = await post({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: 'not-a-guid' }, dryRun: 'yes' });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:invalid-body' });
    expect((res.body!.errors as Array<{ path: string }>).map((e) => e.path).sort()).toEqual(['dryRun', 'target.userId']);
    expectDocumented(res.status, res.contentType, res.body);
    expect((await post('{"call":')).status).toBe(400);
    expect(deletes()).toEqual([]);
  });

  it('refuses a wrong content type (415) and an oversized body (413)', async () => {
    const typed = await post(kickBody(), { contentType: 'text/plain' });
    expect(typed.status).toBe(415);
    expectDocumented(typed.status, typed.contentType, typed.body);
    const big = await post(kickBody({ reason: 'x'.repeat(20_000) }));
    expect(big.status).toBe(413);
    expect(deletes()).toEqual([]);
  });

  it('a dry run says who would be removed and removes nobody', async () => {
    const res = await post(kickBody({ dryRun: true }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'dry_run', participantIds: [expect.any(String)] });
    expectDocumented(res.status, res.contentType, res.body);
    expect(deletes()).toEqual([]);
    expect(h.cases()[1]).toMatchObject({ outcome: 'dry_run' });
  });

  it('answers problems with stable types: not found (404), not bound (409), upstream failure (502)', async () => {
    const missing = await post(kickBody({ target: { userId: PEOPLE.nora.aadObjectId } }));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ type: 'urn:bouncer:problem:target-not-found', caseId: 2, retryable: false });
    expectDocumented(missing.status, missing.contentType, missing.body);

    const unbound = await post(kickBody({ call: { conversationId: '19:nobody@thread.v2' } }));
    expect(unbound.status).toBe(409);
    expect(unbound.body).toMatchObject({ type: 'urn:bouncer:problem:not-bound', reason: 'no_binding' });
    expectDocumented(unbound.status, unbound.contentType, unbound.body);

    h.graph.script('DELETE', /\/participants\//, [{ status: 403, headers: { 'request-id': 'req-9' }, body: { error: { code: 'Forbidden', message: 'policy' } } }]);
    const failed = await post(kickBody());
    expect(failed.status).toBe(502);
    expect(failed.body).toMatchObject({ type: 'urn:bouncer:problem:upstream-failure', retryable: false });
    expect(String(failed.body!.detail)).toContain('req-9');
    expectDocumented(failed.status, failed.contentType, failed.body);
  });

  it('acts on a Twilio conference named in the body, by phone number', async () => {
    // Its status callbacks (announcement-end included) reach Bouncer, so the caller's notice before
    // the removal (NOTIFY_REMOVED) is waited for only as long as Twilio takes to play it.
    const conf = h.twilio!.fake.addConference({
      friendlyName: 'Night bridge',
      status: 'in-progress',
      statusCallback: `${h.bouncer.url}/api/twilio/conference-events`,
    });
    const caller = h.twilio!.fake.addParticipant(conf.sid, { from: '+15550001234' });
    const res = await post(kickBody({ call: { twilioConference: 'Night bridge' }, target: { phoneNumber: '+15550001234' } }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ outcome: 'removed', callId: conf.sid, participantIds: [caller.callSid] });
    expect(conf.participants.has(caller.callSid)).toBe(false);
    expect(h.twilio!.fake.announcements).toEqual([expect.objectContaining({ callSid: caller.callSid, played: true })]);
  });

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${h.bouncer.url}/api/moderation/openapi.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(doc);
  });
});
