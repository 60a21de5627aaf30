import { afterEach, describe, expect, it } from 'vitest';
import type { TokenCredential } from '@azure/identity';
import { isOutage } from '../../src/app/domain/errors.js';
import type { Logger } from '../../src/app/ports/runtime.js';
import { UpstreamHttpError, UpstreamNoAnswerError, UpstreamNotSentError } from '../../src/providers/retry.js';
import { GraphClient } from '../../src/providers/teams/graph-client.js';
import { TeamsCallProvider } from '../../src/providers/teams/teams-call-provider.js';
import { TwilioConferenceProvider } from '../../src/providers/twilio/conference-provider.js';
import { createTwilioClient } from '../../src/providers/twilio/twilio-client.js';
import { json, listen, type LocalServer } from '../../tools/sandbox/protocol/http-util.js';
import { SandboxTwilio } from '../../tools/sandbox/protocol/twilio-server.js';
import { rejection } from '../support/rejection.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const credential: TokenCredential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };

/** Retry options whose waits are recorded, not slept. */
function recordedWaits() {
  const waits: number[] = [];
  return { waits, retry: { random: () => 0.5, sleep: async (ms: number) => void waits.push(ms) } };
}


const servers: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A local server answering each request with the next of `answers` (the last one repeats). */
async function graphServer(answers: Array<{ status: number; body?: unknown; headers?: Record<string, string> } | 'hang'>) {
  const seen: string[] = [];
  const server: LocalServer = await listen((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    const answer = answers[Math.min(seen.length - 1, answers.length - 1)]!;
    if (answer === 'hang') return; // never answers
    json(res, answer.status, answer.body, answer.headers);
  });
  servers.push(server);
  return { url: server.url, seen };
}

describe('GraphClient against a local server', () => {
  it('retries a 429 after its Retry-After, then resolves', async () => {
    const graph = await graphServer([
      { status: 429, headers: { 'retry-after': '3', 'request-id': 'r-1' }, body: { error: { code: 'TooManyRequests', message: 'x' } } },
      { status: 204 },
    ]);
    const { waits, retry } = recordedWaits();
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, retry });

    await expect(client.request('DELETE', '/communications/calls/c/participants/p')).resolves.toMatchObject({ status: 204 });
    expect(graph.seen).toHaveLength(2);
    expect(waits).toEqual([3125]); // Retry-After plus jitter (a tenth, at most 250 ms; random 0.5 here)
  });

  it('gives up on a lasting 503 with the request id and Graph error code, retryable', async () => {
    const graph = await graphServer([{ status: 503, headers: { 'request-id': 'r-9' }, body: { error: { code: 'ServiceUnavailable', message: 'x' } } }]);
    const { waits, retry } = recordedWaits();
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, retry: { ...retry, maxAttempts: 3 } });

    const err = await rejection(client.request('GET', '/communications/calls/c/participants'));
    expect(graph.seen).toHaveLength(3);
    expect(waits).toEqual([375, 750]);
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({ service: 'graph', status: 503, requestId: 'r-9', vendorCode: 'ServiceUnavailable', retryable: true });
  });

  it('does not retry a 403', async () => {
    const graph = await graphServer([{ status: 403, body: { error: { code: 'Forbidden', message: 'policy' } } }]);
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, retry: recordedWaits().retry });

    const err = await rejection(client.request('DELETE', '/communications/calls/c/participants/p'));
    expect(graph.seen).toHaveLength(1);
    expect(err).toBeInstanceOf(UpstreamHttpError);
    expect(err).toMatchObject({ status: 403, retryable: false, vendorCode: 'Forbidden' });
  });

  it('gives every request a deadline: a timeout is a retryable outage, not retried', async () => {
    const graph = await graphServer(['hang']);
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, timeoutMs: 100, retry: recordedWaits().retry });

    const err = await rejection(client.request('DELETE', '/communications/calls/c/participants/p'));
    expect(graph.seen).toHaveLength(1);
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({ service: 'graph', retryable: true, message: expect.stringContaining('timed out') });
  });
});

describe('GraphClient: a request never sent', () => {
  it('a connection refused is UpstreamNotSentError and is sent again even when not idempotent (a POST), within its attempts', async () => {
    const closed = await listen(() => undefined);
    await closed.close();
    const { waits, retry } = recordedWaits();
    const client = new GraphClient({ baseUrl: closed.url, credential, logger: quiet, retry: { ...retry, maxAttempts: 3 } });

    const err = await rejection(client.request('POST', '/communications/calls', { body: { a: 1 } }));
    expect(err).toBeInstanceOf(UpstreamNotSentError);
    expect(err).toMatchObject({ service: 'graph', retryable: true, message: expect.stringContaining('could not be sent (ECONNREFUSED)') });
    expect(waits).toHaveLength(2);
  });

  it('a connection reset after the request went is UpstreamNoAnswerError: a POST is not sent again', async () => {
    const seen: string[] = [];
    const server = await listen((req) => {
      seen.push(`${req.method} ${req.url}`);
      req.socket.destroy();
    });
    servers.push(server);
    const { waits, retry } = recordedWaits();
    const client = new GraphClient({ baseUrl: server.url, credential, logger: quiet, retry: { ...retry, maxAttempts: 3 } });

    const err = await rejection(client.request('POST', '/communications/calls', { body: { a: 1 } }));
    expect(err).toBeInstanceOf(UpstreamNoAnswerError);
    expect(seen).toHaveLength(1);
    expect(waits).toEqual([]);
  });
});

describe("GraphClient's own HTTP client (keep-alive node:https, not fetch)", () => {
  it('sends one request after another over one kept-alive connection, with the token, the method and the JSON body', async () => {
    const sockets = new Set<unknown>();
    const seen: Array<{ line: string; authorization?: string; type?: string; body: string }> = [];
    const server = await listen((req, res) => {
      sockets.add(req.socket);
      seen.push({ line: `${req.method} ${req.url}`, authorization: req.headers.authorization, type: req.headers['content-type'], body: req.body });
      json(res, 200, { ok: seen.length }, { 'request-id': `r-${seen.length}` });
    });
    servers.push(server);
    const client = new GraphClient({ baseUrl: server.url, credential, logger: quiet, retry: recordedWaits().retry });
    for (let i = 1; i <= 3; i++) {
      expect(await client.request('POST', `/things/${i}`, { body: { n: i } })).toEqual({ status: 200, body: { ok: i }, requestId: `r-${i}` });
    }
    expect(await client.request('DELETE', '/things/4')).toMatchObject({ status: 200 });
    expect(seen.map((s) => s.line)).toEqual(['POST /things/1', 'POST /things/2', 'POST /things/3', 'DELETE /things/4']);
    expect(seen[0]).toMatchObject({ authorization: 'Bearer test-token', type: 'application/json', body: '{"n":1}' });
    expect(seen[3]).toMatchObject({ type: undefined, body: '' });
    expect(sockets.size).toBe(1);
  });

  it('follows no redirect: a 3xx is a failure, and the token goes nowhere but the URL asked', async () => {
    const elsewhere: string[] = [];
    const other = await listen((req, res) => {
      elsewhere.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
      json(res, 204, undefined);
    });
    servers.push(other);
    const graph = await graphServer([{ status: 307, headers: { location: `${other.url}/stolen` }, body: {} }]);
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, retry: recordedWaits().retry });
    expect(await rejection(client.request('DELETE', '/communications/calls/c/participants/p'))).toMatchObject({ service: 'graph', status: 307 });
    expect(elsewhere).toEqual([]);
  });

  it("cuts off an answer whose body stops coming at the request's deadline, as a retryable outage", async () => {
    const server = await listen((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"value": [');
    });
    servers.push(server);
    const client = new GraphClient({ baseUrl: server.url, credential, logger: quiet, timeoutMs: 150, retry: recordedWaits().retry });
    const started = Date.now();
    const err = await rejection(client.request('GET', '/communications/calls/c/participants'));
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({ service: 'graph', retryable: true, message: expect.stringContaining('timed out') });
  });
});

describe('a Graph 403 on removal names the tenant policy step (issue 11, item 17)', () => {
  const forbidden = { status: 403, headers: { 'request-id': 'r-403' }, body: { error: { code: 'Forbidden', message: 'Insufficient permissions' } } };

  it('a 403 on DELETE …/participants/{id} carries the remove-participant-policy hint, not retried', async () => {
    const graph = await graphServer([forbidden]);
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, retry: recordedWaits().retry });

    const err = await rejection(new TeamsCallProvider(client, quiet).removeParticipant('call-1', 'participant-1'));
    expect(graph.seen).toEqual(['DELETE /communications/calls/call-1/participants/participant-1']);
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({ service: 'graph', status: 403, requestId: 'r-403', vendorCode: 'Forbidden', retryable: false, hint: 'remove-participant-policy' });
  });

  it('other failures of the removal, and a 403 elsewhere, carry no hint', async () => {
    const graph = await graphServer([{ status: 400, body: { error: { code: 'BadRequest', message: 'x' } } }, forbidden]);
    const client = new GraphClient({ baseUrl: graph.url, credential, logger: quiet, retry: recordedWaits().retry });
    const provider = new TeamsCallProvider(client, quiet);

    expect(await rejection(provider.removeParticipant('call-1', 'participant-1'))).toMatchObject({ status: 400, hint: undefined });
    expect(await rejection(provider.listParticipants('call-1'))).toMatchObject({ status: 403, hint: undefined });
  });
});

describe('Twilio client and provider against the sandbox Twilio', () => {
  const accountSid = `AC${'a1'.repeat(16)}`;
  const authToken = 'test-twilio-auth-token';

  async function start(options: { maxAttempts?: number; timeoutMs?: number } = {}) {
    const fake = await SandboxTwilio.start({ accountSid, authToken });
    servers.push(fake);
    const conference = fake.addConference({ friendlyName: 'Standup' });
    const mallory = fake.addParticipant(conference.sid, { from: '+15555550100', label: 'Mallory' });
    const { waits, retry } = recordedWaits();
    const provider = new TwilioConferenceProvider({
      client: createTwilioClient({ accountSid, authToken, baseUrl: fake.url, timeoutMs: options.timeoutMs }),
      logger: quiet,
      retry: { ...retry, maxAttempts: options.maxAttempts },
    });
    const removals = () => fake.requests.filter((r) => r.method === 'DELETE');
    return { fake, conference, mallory, provider, waits, removals };
  }

  it('retries a 429 (20429) after its Retry-After, which the SDK alone would drop', async () => {
    const { fake, conference, provider, waits, removals } = await start();
    fake.script('DELETE', /\/Participants\//, [{ status: 429, headers: { 'retry-after': '2' } }]);

    await expect(provider.removeParticipant(conference.sid, 'Mallory')).resolves.toBe('removed');
    expect(removals()).toHaveLength(2);
    expect(waits).toEqual([2100]); // Retry-After plus jitter (a tenth, at most 250 ms; random 0.5 here)
  });

  it('retries a 5xx with backoff', async () => {
    const { fake, conference, provider, waits } = await start();
    fake.script('GET', /\/Conferences\.json$/, [{ status: 500 }, { status: 503 }]);

    await expect(provider.findCall('Standup')).resolves.toEqual({ kind: 'found', callId: conference.sid, callName: 'Standup' });
    expect(waits).toEqual([375, 750]);
  });

  it('answers already_gone for a 404 (20404), without retrying', async () => {
    const { conference, mallory, provider, waits, removals } = await start();
    await provider.removeParticipant(conference.sid, mallory.callSid);
    // Kicking the last participant completed the conference; the second removal is a 404.
    await expect(provider.removeParticipant(conference.sid, mallory.callSid)).resolves.toBe('already_gone');
    expect(removals()).toHaveLength(2);
    expect(waits).toEqual([]);
  });

  it("fails with Twilio's status, code and more-info link once the attempts are used up", async () => {
    const { fake, conference, provider, removals } = await start({ maxAttempts: 2 });
    fake.script('DELETE', /\/Participants\//, [{ status: 503 }, { status: 503 }, { status: 503 }]);

    const err = await rejection(provider.removeParticipant(conference.sid, 'Mallory'));
    expect(removals()).toHaveLength(2);
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({ service: 'twilio', status: 503, retryable: true, vendorCode: expect.stringMatching(/^\d+$/), moreInfo: expect.stringContaining('twilio.com/docs/errors/') });
  });

  it('does not retry a 401', async () => {
    const fake = await SandboxTwilio.start({ accountSid, authToken });
    servers.push(fake);
    const { waits, retry } = recordedWaits();
    const provider = new TwilioConferenceProvider({ client: createTwilioClient({ accountSid, authToken: 'wrong', baseUrl: fake.url }), logger: quiet, retry });

    const err = await rejection(provider.findCall('Standup'));
    expect(fake.requests).toHaveLength(1);
    expect(waits).toEqual([]);
    expect(err).toMatchObject({ service: 'twilio', status: 401, retryable: false });
  });

  it('a request that timed out or whose connection was reset got no answer (Twilio may have acted); a DELETE is sent again, a list is not', async () => {
    const { fake, conference, mallory, provider, waits } = await start({ timeoutMs: 200 });
    fake.hang.push({ method: 'GET', path: /\/Conferences\.json$/, times: 1 });
    fake.dropAnswer.push({ method: 'GET', path: /\/Conferences\.json$/, times: 1 });
    const timedOut = await rejection(provider.findCall('Standup'));
    expect(timedOut).toBeInstanceOf(UpstreamNoAnswerError);
    expect(timedOut).toMatchObject({ service: 'twilio', retryable: true, message: expect.stringContaining('timed out after 200 ms') });
    const reset = await rejection(provider.findCall('Standup'));
    expect(reset).toBeInstanceOf(UpstreamNoAnswerError);
    expect(reset).toMatchObject({ message: expect.stringContaining('got no answer (ECONNRESET)') });
    expect(fake.requests.filter((r) => r.method === 'GET')).toHaveLength(2);

    fake.dropAnswer.push({ method: 'DELETE', path: /\/Participants\//, times: 1 });
    await expect(provider.removeParticipant(conference.sid, mallory.callSid)).resolves.toBe('removed');
    expect(fake.requests.filter((r) => r.method === 'DELETE')).toHaveLength(2);
    expect(fake.kicked).toHaveLength(1);
    expect(waits).toEqual([375]); // one backoff, before the DELETE was sent again (random 0.5 here)
  });

  it('a request whose connection was refused was never sent: it is sent again even when not idempotent', async () => {
    const closed = await listen(() => undefined);
    await closed.close();
    const { waits, retry } = recordedWaits();
    const provider = new TwilioConferenceProvider({
      client: createTwilioClient({ accountSid, authToken, baseUrl: closed.url }),
      logger: quiet,
      retry: { ...retry, maxAttempts: 3 },
    });

    const err = await rejection(provider.findCall('Standup'));
    expect(err).toBeInstanceOf(UpstreamNotSentError);
    expect(err).toMatchObject({ service: 'twilio', retryable: true, message: expect.stringContaining('could not be sent (ECONNREFUSED)') });
    expect(waits).toHaveLength(2);
  });

  it('gives every request a deadline', async () => {
    const silent = await listen(() => undefined);
    servers.push(silent);
    const provider = new TwilioConferenceProvider({
      client: createTwilioClient({ accountSid, authToken, baseUrl: silent.url, timeoutMs: 100 }),
      logger: quiet,
      retry: recordedWaits().retry,
    });

    const err = await rejection(provider.findCall('Standup'));
    expect(isOutage(err)).toBe(true);
    expect(err).toMatchObject({ service: 'twilio', retryable: true, message: expect.stringContaining('timed out') });
  });
});
