import os from 'node:os';
import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CallBinding } from '../../src/app/domain/participant.js';
import { CallStateEvents } from '../../src/app/moderation/call-events.js';
import type { Logger } from '../../src/app/ports/runtime.js';
import type { Store } from '../../src/app/ports/store.js';
import type { HttpInput, RawRoute, Route } from '../../src/http/route.js';
import { bindSyntaxes, labelsOf, PROVIDER_MODULES, webhookCallSyntaxes } from '../../src/providers/index.js';
import type { ProviderDeps } from '../../src/providers/provider-module.js';
import { teamsProvider } from '../../src/providers/teams/module.js';
import { DEFAULT_CALLS_MAX_BODY_BYTES } from '../../src/providers/teams/config.js';
import { twilioProvider } from '../../src/providers/twilio/module.js';
import { openStore } from '../../src/store/open-store.js';
import { JwtIssuer } from '../../tools/sandbox/protocol/jwt-issuer.js';
import { json, listen } from '../../tools/sandbox/protocol/http-util.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
const PUBLIC_BASE_URL = 'https://bouncer.example.com';
const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const AUTH_TOKEN = 'test-twilio-auth-token';
const CONFERENCE_SID = `CF${'c3'.repeat(16)}`;
const CALL_SID = `CA${'d4'.repeat(16)}`;
const CLIENT_ID = 'graph-client-id';
const ISSUER = 'https://api.botframework.com';

let store: Store;
const closing: Array<{ close(): Promise<void> }> = [];
beforeEach(async () => {
  store = await openStore(':memory:', os.tmpdir());
});
afterEach(async () => {
  await Promise.all(closing.splice(0).map((c) => c.close()));
  await store.close();
});

function deps(): ProviderDeps {
  return { store, events: new CallStateEvents(), clock: { now: () => new Date('2026-11-22T10:00:00Z') }, logger: quiet, publicBaseUrl: PUBLIC_BASE_URL };
}

function raw(routes: Route[], path: string): RawRoute {
  const route = routes.find((r) => r.path === path);
  if (route?.kind !== 'raw') return expect.unreachable(`no raw route ${path}`);
  return route;
}

function input(body: string, headers: Record<string, string> = {}, query = ''): HttpInput {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { query, header: (name) => lower[name.toLowerCase()], contentType: lower['content-type'], body: Buffer.from(body), remoteAddress: '127.0.0.1' };
}

function binding(overrides: Partial<CallBinding>): CallBinding {
  return {
    conversationId: '19:meeting_abc@thread.v2',
    provider: 'teams',
    callId: 'call-1',
    state: 'establishing',
    createdAt: '2026-11-22T09:00:00.000Z',
    updatedAt: '2026-11-22T09:00:00.000Z',
    ...overrides,
  };
}

const teamsConfig = {
  baseUrl: 'http://127.0.0.1:9/v1.0',
  authorityHost: 'https://127.0.0.1:9',
  callsOpenIdMetadataUrl: 'http://127.0.0.1:9/openid',
  callsTokenIssuer: ISSUER,
  callsMaxBodyBytes: DEFAULT_CALLS_MAX_BODY_BYTES,
  timeoutMs: 15_000,
  concurrency: 16,
};

describe('the provider list', () => {
  it('lists Teams, then Twilio', () => {
    expect(PROVIDER_MODULES.map((m) => [m.kind, m.healthKey, m.joinsMeetings])).toEqual([
      ['teams', 'graph', true],
      ['twilio', 'twilio', false],
    ]);
  });

  it('names calls as people read them', () => {
    const escape = (t: string) => t.replace(/\*/g, '\\*');
    expect(labelsOf('teams').callInSentence({}, escape)).toBe("this meeting's call");
    expect(labelsOf('teams').callFact({ callId: 'call-1' })).toBe('Teams meeting call');
    expect(labelsOf('twilio').callInSentence({ callName: '*Standup*' }, escape)).toBe('the phone conference **\\*Standup\\***');
    expect(labelsOf('twilio').callInSentence({}, escape)).toBe('the phone conference');
    expect(labelsOf('twilio').callFact({ callId: CONFERENCE_SID })).toBe(`Twilio: ${CONFERENCE_SID}`);
    expect(labelsOf('twilio').callFact({ callId: CONFERENCE_SID, callName: 'Standup' })).toBe('Twilio: Standup');
    expect([labelsOf('teams').product, labelsOf('twilio').product, labelsOf('twilio').calls, labelsOf('twilio').callNoun]).toEqual([
      'Teams calls',
      'Twilio',
      'Twilio conferences',
      'Twilio conference',
    ]);
  });

  it('parses each /bind syntax, and only its own', () => {
    const [teams, twilioSyntax] = bindSyntaxes();
    expect(teams!.parse('https://teams.microsoft.com/l/meetup-join/x/0')).toEqual({ kind: 'link', provider: 'teams', url: 'https://teams.microsoft.com/l/meetup-join/x/0' });
    expect(teams!.parse('twilio Standup')).toBeUndefined();
    expect(twilioSyntax!.parse('TWILIO   Daily standup ')).toEqual({ kind: 'named', provider: 'twilio', idOrName: 'Daily standup' });
    expect(twilioSyntax!.parse('https://example.com')).toBeUndefined();
  });

  it('describes webhook calls exactly as the moderation API always has', () => {
    const schemas = webhookCallSyntaxes().map((c) => [c.provider, c.field, z.toJSONSchema(c.schema)]);
    expect(schemas).toEqual([
      ['teams', 'teamsCallId', z.toJSONSchema(z.object({ teamsCallId: z.string().min(1).max(128).describe("Bouncer's Graph call id for a Teams meeting it has joined.") }).strict())],
      [
        'twilio',
        'twilioConference',
        z.toJSONSchema(
          z.object({ twilioConference: z.string().min(1).max(256).describe('A Twilio ConferenceSid, or a friendly name (resolved to the in-progress conference).') }).strict(),
        ),
      ],
    ]);
  });
});

describe('teamsProvider.setUp', () => {
  it('says what is missing without credentials, and still refuses notifications on /api/calls', async () => {
    const setup = teamsProvider.setUp(teamsConfig, deps());
    expect(setup.provider).toBeUndefined();
    expect(setup.missing).toEqual(['GRAPH_TENANT_ID', 'GRAPH_CLIENT_ID', 'GRAPH_CLIENT_SECRET']);
    const route = raw(setup.routes, '/api/calls');
    expect([route.method, route.maxBodyBytes]).toEqual(['POST', DEFAULT_CALLS_MAX_BODY_BYTES]);
    expect(await route.handle(input('{"value":[]}'))).toEqual({
      status: 401,
      body: { type: 'urn:bouncer:problem:unauthorized', title: 'The request is not authenticated', status: 401 },
    });
  });

  it('builds the Teams provider with its capabilities, the phone directory and a token warm-up', () => {
    const setup = teamsProvider.setUp({ ...teamsConfig, clientId: CLIENT_ID, credentials: { tenantId: 't', clientId: CLIENT_ID, clientSecret: 's' } }, deps());
    expect(setup.missing).toEqual([]);
    expect(setup.provider?.kind).toBe('teams');
    expect(setup.provider?.capabilities).toEqual({ removeByLabel: false, phoneCallers: false, meetingNotifications: true });
    expect(setup.phones).toBeDefined();
    expect(setup.warmUp).toBeTypeOf('function');
  });

  it('refuses, coded, an authority host that @azure/identity does not take', () => {
    const config = { ...teamsConfig, authorityHost: 'http://127.0.0.1:9', clientId: CLIENT_ID, credentials: { tenantId: 't', clientId: CLIENT_ID, clientSecret: 's' } };
    expect(() => teamsProvider.setUp(config, deps())).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('finds a Teams call by its id without asking Graph', async () => {
    const setup = teamsProvider.setUp({ ...teamsConfig, clientId: CLIENT_ID, credentials: { tenantId: 't', clientId: CLIENT_ID, clientSecret: 's' } }, deps());
    await expect(setup.provider!.findCall!('call-42')).resolves.toEqual({ kind: 'found', callId: 'call-42' });
  });
});

describe('POST /api/calls', () => {
  async function route(metadataUrl?: string) {
    const issuer = await JwtIssuer.start();
    closing.push(issuer);
    const setup = teamsProvider.setUp({ ...teamsConfig, clientId: CLIENT_ID, callsOpenIdMetadataUrl: metadataUrl ?? issuer.openIdMetadataUrl }, deps());
    return { issuer, calls: raw(setup.routes, '/api/calls') };
  }

  it('refuses a request without a valid token (401)', async () => {
    const { issuer, calls } = await route();
    const wrongAudience = await issuer.sign({ iss: ISSUER, aud: 'someone-else' });
    const attempts: Array<Record<string, string>> = [{}, { authorization: 'Bearer nonsense' }, { authorization: `Bearer ${wrongAudience}` }];
    for (const headers of attempts) {
      expect(await calls.handle(input('{"value":[]}', headers))).toMatchObject({ status: 401, body: { type: 'urn:bouncer:problem:unauthorized', status: 401 } });
    }
  });

  it('answers 503 when the signing keys cannot be had, so that the platform retries', async () => {
    const broken = await listen((_req, res) => json(res, 500, { error: 'down' }));
    closing.push(broken);
    const { issuer, calls } = await route(`${broken.url}/openid`);
    const token = await issuer.sign({ iss: ISSUER, aud: CLIENT_ID });
    expect(await calls.handle(input('{"value":[]}', { authorization: `Bearer ${token}` }))).toMatchObject({
      status: 503,
      body: { type: 'urn:bouncer:problem:unavailable', status: 503 },
    });
  });

  it('answers 503 when the key set named by the metadata cannot be fetched', async () => {
    const keysDown = await listen((req, res) =>
      req.url.startsWith('/openid') ? json(res, 200, { jwks_uri: `${keysDown.url}/keys` }) : json(res, 503, { error: 'down' }),
    );
    closing.push(keysDown);
    const { issuer, calls } = await route(`${keysDown.url}/openid`);
    const token = await issuer.sign({ iss: ISSUER, aud: CLIENT_ID });
    expect(await calls.handle(input('{"value":[]}', { authorization: `Bearer ${token}` }))).toMatchObject({ status: 503 });
  });

  it('answers 400 for a body that is not a notification', async () => {
    const { issuer, calls } = await route();
    const token = await issuer.sign({ iss: ISSUER, aud: CLIENT_ID });
    for (const body of ['not json', '{"value":"nope"}']) {
      expect(await calls.handle(input(body, { authorization: `Bearer ${token}` }))).toMatchObject({
        status: 400,
        body: { type: 'urn:bouncer:problem:invalid-body', status: 400 },
      });
    }
  });

  it('applies an authenticated notification and answers 202 without a body', async () => {
    const { issuer, calls } = await route();
    await store.bindings.save(binding({ callId: 'call-1' }));
    const token = await issuer.sign({ iss: ISSUER, aud: CLIENT_ID });
    const notification = { value: [{ changeType: 'updated', resourceUrl: '/communications/calls/call-1', resourceData: { state: 'established' } }] };

    expect(await calls.handle(input(JSON.stringify(notification), { authorization: `Bearer ${token}` }))).toEqual({ status: 202 });
    expect((await store.bindings.get('19:meeting_abc@thread.v2'))?.state).toBe('established');
  });

  it('skips a notification whose call id does not decode, and still applies the others (no 5xx)', async () => {
    const { issuer, calls } = await route();
    await store.bindings.save(binding({ callId: 'call-1' }));
    const token = await issuer.sign({ iss: ISSUER, aud: CLIENT_ID });
    const notification = {
      value: [
        { changeType: 'deleted', resourceUrl: '/communications/calls/%zz', resourceData: {} },
        { changeType: 'updated', resourceUrl: '/communications/calls/call-1', resourceData: { state: 'established' } },
      ],
    };
    expect(await calls.handle(input(JSON.stringify(notification), { authorization: `Bearer ${token}` }))).toEqual({ status: 202 });
    expect((await store.bindings.get('19:meeting_abc@thread.v2'))?.state).toBe('established');
  });
});

describe('twilioProvider.setUp and POST /api/twilio/conference-events', () => {
  const path = '/api/twilio/conference-events';
  const configured = { account: { accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN }, baseUrl: 'http://127.0.0.1:9', timeoutMs: 15_000, concurrency: 16, conferenceChats: [] };
  const leave = { AccountSid: ACCOUNT_SID, ConferenceSid: CONFERENCE_SID, StatusCallbackEvent: 'participant-leave', CallSid: CALL_SID };

  function signed(params: Record<string, string>, query = '') {
    const url = `${PUBLIC_BASE_URL}${path}${query ? `?${query}` : ''}`;
    return input(new URLSearchParams(params).toString(), { 'x-twilio-signature': twilio.getExpectedTwilioSignature(AUTH_TOKEN, url, params) }, query);
  }

  it('says what is missing without an account, and refuses every callback (403)', async () => {
    const setup = twilioProvider.setUp({ baseUrl: 'https://api.twilio.com', timeoutMs: 15_000, concurrency: 16, conferenceChats: [] }, deps());
    expect(setup.provider).toBeUndefined();
    expect(setup.missing).toEqual(['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)']);
    const route = raw(setup.routes, path);
    expect([route.method, route.maxBodyBytes]).toEqual(['POST', 512 * 1024]);
    expect(await route.handle(signed(leave))).toEqual({
      status: 403,
      body: { type: 'urn:bouncer:problem:forbidden', title: 'The request is not allowed', status: 403 },
    });
  });

  it('builds the Twilio provider with its capabilities', () => {
    const setup = twilioProvider.setUp(configured, deps());
    expect(setup.missing).toEqual([]);
    expect(setup.provider?.kind).toBe('twilio');
    expect(setup.provider?.capabilities).toEqual({ removeByLabel: true, phoneCallers: true, meetingNotifications: false });
  });

  it('refuses a callback with a bad or missing signature, or without an auth token to check it (403)', async () => {
    const events = raw(twilioProvider.setUp(configured, deps()).routes, path);
    const unsigned = input(new URLSearchParams(leave).toString());
    const forged = input(new URLSearchParams(leave).toString(), { 'x-twilio-signature': 'Zm9yZ2Vk' });
    for (const request of [unsigned, forged]) {
      expect(await events.handle(request)).toMatchObject({ status: 403, body: { type: 'urn:bouncer:problem:forbidden' } });
    }
    const keyOnly = raw(twilioProvider.setUp({ ...configured, account: { accountSid: ACCOUNT_SID, apiKey: { sid: `SK${'b2'.repeat(16)}`, secret: 's' } } }, deps()).routes, path);
    expect(await keyOnly.handle(signed(leave))).toMatchObject({ status: 403 });
  });

  it('answers 400 for a signed body that is not a conference callback', async () => {
    const events = raw(twilioProvider.setUp(configured, deps()).routes, path);
    expect(await events.handle(signed({ AccountSid: ACCOUNT_SID, StatusCallbackEvent: 'participant-leave' }))).toMatchObject({
      status: 400,
      body: { type: 'urn:bouncer:problem:invalid-body', status: 400 },
    });
  });

  it('applies a signed callback (the query is part of the signed URL) and answers 204', async () => {
    await store.roster.upsert(CONFERENCE_SID, [{ callId: CONFERENCE_SID, participantId: CALL_SID, kind: 'phone', isInLobby: false }]);
    const events = raw(twilioProvider.setUp(configured, deps()).routes, path);

    expect(await events.handle(signed(leave, 'tenant=contoso'))).toEqual({ status: 204 });
    expect(await store.roster.list(CONFERENCE_SID)).toEqual([]);
  });
});
