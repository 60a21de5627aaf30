import os from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isOutage } from '../../src/app/domain/errors.js';
import { CallStateEvents } from '../../src/app/moderation/call-events.js';
import type { Logger } from '../../src/app/ports/runtime.js';
import type { Store } from '../../src/app/ports/store.js';
import type { Config } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { HttpInput, RawRoute } from '../../src/http/route.js';
import type { ProviderDeps } from '../../src/providers/provider-module.js';
import { teamsProvider } from '../../src/providers/teams/module.js';
import { twilioProvider } from '../../src/providers/twilio/module.js';
import { openStore } from '../../src/store/open-store.js';
import { json, listen, type LocalServer } from '../../tools/sandbox/protocol/http-util.js';
import { JwtIssuer } from '../../tools/sandbox/protocol/jwt-issuer.js';
import { TokenServer } from '../../tools/sandbox/protocol/token-server.js';
import { testTls } from '../support/global-setup.js';

// Issue 11, item 9: every upstream call has a deadline, UPSTREAM_TIMEOUT_MS. Each test configures
// Bouncer from the environment as `npm start` does, points one upstream at a local server that
// never answers, and expects a retryable outage soon after the configured 200 ms.

const TIMEOUT_MS = 200;
/** Far below the 15 s default and undici's 300 s: only the configured deadline ends the call this soon. */
const GIVE_UP_WITHIN_MS = 3_000;
const CLIENT_ID = 'graph-client-id';
const ACCOUNT_SID = `AC${'a1'.repeat(16)}`;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

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
  return { store, events: new CallStateEvents(), clock: { now: () => new Date() }, logger: quiet, publicBaseUrl: 'https://bouncer.example.com' };
}

function configFrom(env: Record<string, string>): Config {
  const result = loadConfig({ UPSTREAM_TIMEOUT_MS: String(TIMEOUT_MS), ...env }, os.tmpdir());
  if (!result.ok) throw new Error(`test configuration invalid: ${result.problems.join('; ')}`);
  return result.config;
}

/** A server that takes every request and never answers (over TLS when asked). */
async function silentServer(tls = false): Promise<LocalServer> {
  const server = await listen(() => undefined, tls ? { tls: testTls() } : {});
  closing.push(server);
  return server;
}

/** How `promise` settled, and after how long; 'pending' when it had not within GIVE_UP_WITHIN_MS. */
async function settle<T>(promise: Promise<T>): Promise<{ outcome: 'resolved' | 'rejected' | 'pending'; error?: unknown; value?: T; ms: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<'pending'>((resolve) => {
    timer = setTimeout(() => resolve('pending'), GIVE_UP_WITHIN_MS);
  });
  try {
    const result = await Promise.race([promise.then((value) => ({ outcome: 'resolved' as const, value }), (error: unknown) => ({ outcome: 'rejected' as const, error })), pending]);
    return result === 'pending' ? { outcome: 'pending', ms: Date.now() - started } : { ...result, ms: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

function expectRetryableOutage(settled: Awaited<ReturnType<typeof settle>>, service: string): void {
  expect(settled.outcome, `the ${service} call should have given up after ${TIMEOUT_MS} ms`).toBe('rejected');
  expect(isOutage(settled.error)).toBe(true);
  expect(settled.error).toMatchObject({ service, retryable: true, message: expect.stringContaining(`timed out after ${TIMEOUT_MS} ms`) });
  expect(settled.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
}

function callsRouteOf(config: Config): RawRoute {
  const route = teamsProvider.setUp(config.providers.teams, deps()).routes.find((r) => r.path === '/api/calls');
  if (route?.kind !== 'raw') return expect.unreachable('no raw /api/calls route');
  return route;
}

function notification(authorization: string): HttpInput {
  const headers: Record<string, string> = { authorization, 'content-type': 'application/json' };
  return { query: '', header: (name) => headers[name.toLowerCase()], contentType: 'application/json', body: Buffer.from('{"value":[]}'), remoteAddress: '127.0.0.1' };
}

const graphCredentials = { GRAPH_TENANT_ID: 'contoso.onmicrosoft.com', GRAPH_CLIENT_ID: CLIENT_ID, GRAPH_CLIENT_SECRET: 'graph-secret' };

describe('UPSTREAM_TIMEOUT_MS bounds every upstream call', () => {
  it('a Graph request that never answers fails as a retryable outage after the deadline', async () => {
    const tokens = await TokenServer.start({ tls: testTls() });
    closing.push(tokens);
    const graph = await silentServer();
    const config = configFrom({ ...graphCredentials, AZURE_AUTHORITY_HOST: tokens.url, GRAPH_BASE_URL: graph.url });
    const provider = teamsProvider.setUp(config.providers.teams, deps()).provider!;

    // A list (not sent again: only idempotent requests such as the participant DELETE are, see graph-delete-retry.test.ts).
    expectRetryableOutage(await settle(provider.listParticipants('call-1')), 'graph');
    expect(tokens.requests).toHaveLength(1);
  });

  it('a Graph token request that never answers fails as a retryable outage after the deadline, and is asked again next time', async () => {
    const authority = await silentServer(true);
    const config = configFrom({ ...graphCredentials, AZURE_AUTHORITY_HOST: authority.url, GRAPH_BASE_URL: 'http://127.0.0.1:9' });
    const provider = teamsProvider.setUp(config.providers.teams, deps()).provider!;

    expectRetryableOutage(await settle(provider.removeParticipant('call-1', 'participant-1')), 'entra');
    // A request that timed out is not kept as the one everybody waits for.
    expectRetryableOutage(await settle(provider.removeParticipant('call-1', 'participant-1')), 'entra');
  });

  it('a Twilio request that never answers fails as a retryable outage after the deadline', async () => {
    const twilio = await silentServer();
    const config = configFrom({ TWILIO_ACCOUNT_SID: ACCOUNT_SID, TWILIO_AUTH_TOKEN: 'token', TWILIO_API_BASE_URL: twilio.url });
    const provider = twilioProvider.setUp(config.providers.twilio, deps()).provider!;

    const settled = await settle(provider.findCall!('Standup'));
    expect(settled.outcome).toBe('rejected');
    expect(isOutage(settled.error)).toBe(true);
    expect(settled.error).toMatchObject({ service: 'twilio', retryable: true, message: expect.stringContaining('timed out') });
    expect(settled.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
  });

  it('calls OpenID metadata that never answers: /api/calls answers 503 after the deadline', async () => {
    const metadata = await silentServer();
    const calls = callsRouteOf(configFrom({ GRAPH_CLIENT_ID: CLIENT_ID, GRAPH_TENANT_ID: 't', GRAPH_CLIENT_SECRET: 's', CALLS_OPENID_METADATA_URL: `${metadata.url}/openid` }));

    const settled = await settle(calls.handle(notification('Bearer x.y.z')));
    expect(settled.outcome).toBe('resolved');
    expect(settled.value).toMatchObject({ status: 503 });
    expect(settled.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
  });

  it('a calls key set that never answers: /api/calls answers 503 after the deadline', async () => {
    const issuer = await JwtIssuer.start();
    closing.push(issuer);
    const keys: LocalServer = await listen((req, res) => {
      if (req.url.startsWith('/openid')) json(res, 200, { jwks_uri: `${keys.url}/keys` });
      // The key set never comes.
    });
    closing.push(keys);
    const calls = callsRouteOf(configFrom({ GRAPH_CLIENT_ID: CLIENT_ID, GRAPH_TENANT_ID: 't', GRAPH_CLIENT_SECRET: 's', CALLS_OPENID_METADATA_URL: `${keys.url}/openid` }));
    const token = await issuer.sign({ iss: 'https://api.botframework.com', aud: CLIENT_ID });

    const settled = await settle(calls.handle(notification(`Bearer ${token}`)));
    expect(settled.outcome).toBe('resolved');
    expect(settled.value).toMatchObject({ status: 503 });
    expect(settled.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
  });
});
