import { createHmac, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { signedHeaders } from '../support/webhooks.js';

/** Issue 11, items 4 and 14: replays, and honest problem+json answers, through the real server. */
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

describe('the moderation API under attack', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ WEBHOOK_SECRETS: SECRET }, { twilio: true });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
  });
  afterEach(async () => {
    await h.close();
  });

  const kickBody = (over: Record<string, unknown> = {}) =>
    JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId: PEOPLE.mallory.aadObjectId }, reason: 'spam', ...over });

  /** Signs `raw` as a Standard Webhooks sender does; the headers an attacker could capture and resend. */
  function signed(raw: string, id?: string): Record<string, string> {
    return signedHeaders(SECRET, raw, { id });
  }

  async function post(raw: string, headers: Record<string, string>) {
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers, body: raw });
    const text = await res.text();
    return { status: res.status, contentType: res.headers.get('content-type'), replayed: res.headers.get('idempotent-replayed'), text, body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  }
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE');
  const webhookCases = () => h.cases().filter((c) => c.source === 'webhook');

  describe('item 4: a captured signed request replayed with a new Idempotency-Key', () => {
    it('does not act again when the original had no Idempotency-Key', async () => {
      const raw = kickBody();
      const headers = signed(raw);
      const first = await post(raw, headers);
      expect(first.status).toBe(200);
      // Mallory comes back; the attacker resends the captured request with a fresh key.
      const replay = await post(raw, { ...headers, 'idempotency-key': 'attacker-1' });
      const replay2 = await post(raw, { ...headers, 'idempotency-key': 'attacker-2' });
      expect(deletes()).toHaveLength(1);
      expect(webhookCases()).toHaveLength(1);
      expect(replay.status).toBe(200);
      expect(replay.body).toEqual(first.body);
      expect(replay.replayed).toBe('true');
      expect(replay2.body).toEqual(first.body);
    });

    it('does not act again when the original had an Idempotency-Key and the replay changes it', async () => {
      const raw = kickBody();
      const headers = { ...signed(raw), 'idempotency-key': 'job-7' };
      const first = await post(raw, headers);
      expect(first.status).toBe(200);
      const replay = await post(raw, { ...headers, 'idempotency-key': 'job-8' });
      const dropped = await post(raw, Object.fromEntries(Object.entries(headers).filter(([k]) => k !== 'idempotency-key')));
      expect(deletes()).toHaveLength(1);
      expect(webhookCases()).toHaveLength(1);
      expect(replay.body).toEqual(first.body);
      expect(dropped.body).toEqual(first.body);
    });

    it('concurrent replays with different keys act once', async () => {
      h.graph.script('DELETE', /\/participants\//, [{ status: 429, headers: { 'retry-after': '1' }, body: { error: { code: 'TooManyRequests', message: 'x' } } }]);
      const raw = kickBody();
      const headers = signed(raw);
      const answers = await Promise.all(['k1', 'k2', 'k3'].map((k) => post(raw, { ...headers, 'idempotency-key': k })));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
      expect(webhookCases()).toHaveLength(1);
      expect(deletes().filter((r) => !r.path.endsWith('/participants'))).toHaveLength(2); // the 429 and its retry
    });

    it('an Idempotency-Key still narrows: two signed messages with one key act once', async () => {
      const raw = kickBody();
      const a = await post(raw, { ...signed(raw), 'idempotency-key': 'job-9' });
      const b = await post(raw, { ...signed(raw), 'idempotency-key': 'job-9' });
      expect(b.body).toEqual(a.body);
      expect(b.replayed).toBe('true');
      expect(deletes()).toHaveLength(1);
      // The same key on a different body is refused, and that answer sticks to the message.
      const otherRaw = kickBody({ reason: 'other' });
      const otherHeaders = { ...signed(otherRaw), 'idempotency-key': 'job-9' };
      const other = await post(otherRaw, otherHeaders);
      expect(other.status).toBe(422);
      expect(other.body).toMatchObject({ type: 'urn:bouncer:problem:idempotency-key-reused' });
      expect((await post(otherRaw, { ...otherHeaders, 'idempotency-key': 'job-10' })).status).toBe(422);
      expect(deletes()).toHaveLength(1);
    });
  });

  describe('item 14: every error of the moderation API is problem+json without internal text', () => {
    it('413 (raised by restify) is application/problem+json', async () => {
      const raw = kickBody({ reason: 'x'.repeat(20_000) });
      const res = await post(raw, signed(raw));
      expect(res.status).toBe(413);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.body).toEqual({ type: 'urn:bouncer:problem:payload-too-large', title: 'The request body is too large', status: 413 });
    });

    it.each([
      ['an unknown path', 'GET', '/api/moderation/nowhere'],
      ['a wrong method', 'GET', '/api/moderation/kick'],
      ['an oversized Teams activity', 'POST', '/api/messages'],
    ])('%s answers application/problem+json', async (_name, method, path) => {
      const res = await fetch(`${h.bouncer.url}${path}`, {
        method,
        headers: method === 'POST' ? { 'content-type': 'application/json' } : {},
        body: method === 'POST' ? JSON.stringify({ text: 'x'.repeat(600 * 1024) }) : undefined,
      });
      const text = await res.text();
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(JSON.parse(text)).toMatchObject({ type: expect.stringMatching(/^urn:bouncer:problem:/), status: res.status });
    });

    it.each(['/api/moderation/kick', '/api/messages', '/api/twilio/conference-events'])(
      'a compressed body to %s is refused (415 problem+json) and does not bring the server down',
      async (path) => {
        const res = await fetch(`${h.bouncer.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
          body: 'not gzip at all',
        });
        expect(res.status).toBe(415);
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect(await res.json()).toMatchObject({ type: 'urn:bouncer:problem:unsupported-media-type', status: 415 });
        expect((await fetch(`${h.bouncer.url}/healthz`)).status).toBe(200);
      },
    );

    it('a string that is not well-formed Unicode (a lone surrogate) is a 400, not a 500', async () => {
      const conf = h.twilio!.fake.addConference({ friendlyName: 'Night bridge', status: 'in-progress' });
      for (const over of [{ call: { twilioConference: conf.sid }, target: { label: 'caller\ud800' } }, { reason: 'x\udc00' }]) {
        const raw = kickBody(over);
        const res = await post(raw, signed(raw));
        expect(res.status).toBe(400);
        expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:invalid-body' });
      }
      expect(deletes()).toEqual([]);
    });

    it('a signed body is verified over the bytes sent, invalid UTF-8 included (400, not 401)', async () => {
      const raw = Buffer.concat([Buffer.from('{"call":{"conversationId":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}}')]);
      const id = 'msg_bytes';
      const ts = String(Math.floor(Date.now() / 1000));
      const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
      const sig = createHmac('sha256', key).update(Buffer.concat([Buffer.from(`${id}.${ts}.`), raw])).digest('base64');
      const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': `v1,${sig}` },
        body: raw,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ type: 'urn:bouncer:problem:invalid-body' });
    });

    it('an unknown teamsCallId is 404 conference-not-found, and Graph is not asked to remove anyone', async () => {
      const before = h.graph.requests.length;
      const byUser = kickBody({ call: { teamsCallId: 'no-such-call' } });
      const res = await post(byUser, signed(byUser));
      expect(res.status).toBe(404);
      expect(res.contentType).toBe('application/problem+json');
      expect(res.body).toMatchObject({ type: 'urn:bouncer:problem:conference-not-found', retryable: false });
      const byParticipant = kickBody({ call: { teamsCallId: 'no-such-call' }, target: { participantId: 'p-1' } });
      const res2 = await post(byParticipant, signed(byParticipant));
      expect(res2.status).toBe(404);
      expect(h.graph.requests.slice(before)).toEqual([]);
      expect(webhookCases().map((c) => c.outcome)).toEqual(['not_bound', 'not_bound']);
    });

    it('the call Bouncer joined, named by its teamsCallId, still works', async () => {
      const callId = String(h.cases()[0]!.call_id);
      const raw = kickBody({ call: { teamsCallId: callId } });
      const res = await post(raw, signed(raw));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ outcome: 'removed', callId });
    });
  });
});
