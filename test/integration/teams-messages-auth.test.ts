import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { startBouncer, type RunningBouncer } from '../../src/main.js';
import { SandboxConnector } from '../../tools/sandbox/protocol/connector-server.js';
import { APP_ID, BOT_CHAT_ID, MEETING_CHAT_ID, PEOPLE, startHarness, TENANT_ID, type Harness } from '../support/harness.js';

/**
 * Issue 11, item 14 (first bullet): POST /api/messages with a body that is not an activity, or
 * without valid Bot Framework credentials, is a client error (400 or 401) answered as
 * problem+json with no internal text, and logged as one warning line without a stack.
 */
describe('POST /api/messages refuses bad requests with 4xx problem+json', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const serviceUrl = () => `${h.connector.url}/`;
  const activity = () => ({
    type: 'message',
    id: randomUUID(),
    channelId: 'msteams',
    serviceUrl: serviceUrl(),
    from: { id: PEOPLE.olivia.chatId, name: PEOPLE.olivia.name, aadObjectId: PEOPLE.olivia.aadObjectId },
    conversation: { id: MEETING_CHAT_ID, isGroup: true, conversationType: 'groupChat', tenantId: TENANT_ID },
    recipient: { id: BOT_CHAT_ID, name: 'Bouncer' },
    text: '/help',
  });

  async function post(body: unknown, authorization?: string) {
    const res = await fetch(`${h.bouncer.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
  }

  /** The claims a real Bot Framework token carries for this bot. */
  const goodClaims = () => ({ iss: 'https://api.botframework.com', aud: APP_ID, serviceurl: serviceUrl() });
  const now = () => Math.floor(Date.now() / 1000);

  /** Signs with the bot issuer's own key (the one Bouncer trusts), for forgeries of claims, not of keys. */
  async function signWithTrustedKey(payload: Record<string, unknown>): Promise<string> {
    // The issuer keeps its key private; a test that forges claims needs it anyway.
    const key = (h.botIssuer as unknown as { privateKey: CryptoKey }).privateKey;
    return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', kid: h.botIssuer.kid, typ: 'JWT' }).sign(key);
  }

  const unsigned = (header: Record<string, unknown>, payload: Record<string, unknown>) =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;

  function expectProblem(answer: { status: number; type: string | null; text: string }, status: number, type: string) {
    expect(answer.status).toBe(status);
    expect(answer.type).toBe('application/problem+json');
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    expect(body).toMatchObject({ type: `urn:bouncer:problem:${type}`, status });
    // Nothing of botbuilder's or jsonwebtoken's own wording reaches the caller.
    expect(answer.text).not.toMatch(/jwt|signature|token|botframework|Error|ENOTFOUND|getaddrinfo|stack/i);
  }

  /** Log lines from `since`: no error line, no stack, and exactly one warning naming the refusal. */
  function expectOneWarning(since: number, status: number) {
    const lines = h.logs.slice(since).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(h.logs.slice(since).join('\n')).not.toMatch(/"stack"|\\n\s+at /);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ status });
  }

  it('a body that is not an activity gets 400, with or without a token', async () => {
    const token = await h.botIssuer.sign(goodClaims());
    const { conversation: _none, ...withoutConversation } = activity();
    for (const [body, authorization] of [
      [{}, undefined],
      [{}, `Bearer ${token}`],
      [[], undefined],
      [{ type: 42 }, undefined],
      [{ type: '' }, `Bearer ${token}`],
      ['"message"', undefined],
      ['null', undefined],
      // Authenticated, but no turn can run without a conversation.
      [withoutConversation, `Bearer ${token}`],
    ] as const) {
      const since = h.logs.length;
      expectProblem(await post(body, authorization), 400, 'invalid-body');
      expectOneWarning(since, 400);
    }
  });

  it('missing, malformed and forged credentials get 401, and nothing reaches the bot', async () => {
    const { privateKey: foreignKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    expect(await exportJWK(publicKey)).toHaveProperty('n');
    const claims = { ...goodClaims(), iat: now() - 5, nbf: now() - 5, exp: now() + 3600 };
    const forgeries: Array<[string, string | undefined]> = [
      ['no Authorization header', undefined],
      ['not a bearer token', 'Basic b2xpdmlhOnB3'],
      ['garbage', 'Bearer not-a-jwt'],
      ['alg none', `Bearer ${unsigned({ alg: 'none', typ: 'JWT' }, claims)}`],
      ['HS256 with the app password', `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: h.botIssuer.kid }).sign(new TextEncoder().encode('test-app-password-not-a-secret'))}`],
      ['a key nobody published, under the trusted kid', `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: h.botIssuer.kid }).sign(foreignKey)}`],
      ['a key nobody published, under its own kid', `Bearer ${await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'attacker-key' }).sign(foreignKey)}`],
      ['nbf in the future', `Bearer ${await signWithTrustedKey({ ...claims, nbf: now() + 3600, exp: now() + 7200 })}`],
      ['expired', `Bearer ${await signWithTrustedKey({ ...claims, iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })}`],
      ['a foreign issuer', `Bearer ${await signWithTrustedKey({ ...claims, iss: 'https://evil.example' })}`],
      ['another audience', `Bearer ${await signWithTrustedKey({ ...claims, aud: randomUUID() })}`],
      ['a serviceUrl claim for another connector', `Bearer ${await signWithTrustedKey({ ...claims, serviceurl: 'https://evil.example/' })}`],
    ];
    // botframework-connector writes some refusals to the console itself; never a stack trace.
    const consoleErrors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    for (const [name, authorization] of forgeries) {
      const since = h.logs.length;
      const answer = await post(activity(), authorization);
      try {
        expectProblem(answer, 401, 'unauthorized');
        expectOneWarning(since, 401);
      } catch (err) {
        throw new Error(`${name}: ${(err as Error).message}\nanswer: ${answer.status} ${answer.text}`, { cause: err });
      }
    }
    const printed = consoleErrors.mock.calls.flat();
    consoleErrors.mockRestore();
    expect(printed.filter((arg) => arg instanceof Error)).toEqual([]);
    expect(printed.join('\n')).not.toMatch(/\n\s+at /);
    expect(h.connector.activities).toEqual([]);
  });

  it('a real token still gets through', async () => {
    const a = activity();
    const answer = await post(a, `Bearer ${await h.botIssuer.sign(goodClaims())}`);
    expect(answer.status).toBe(200);
    const reply = await h.connector.waitForActivity((r) => r.replyToId === a.id);
    expect(String(reply.activity.text)).toContain('/help');
  });
});

describe('POST /api/messages in local mode (no MicrosoftAppId)', () => {
  let bouncer: RunningBouncer;
  let connector: SandboxConnector;
  const logs: string[] = [];
  beforeEach(async () => {
    const result = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: ':memory:' });
    if (!result.ok) throw new Error(result.problems.join('; '));
    const { Writable } = await import('node:stream');
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    bouncer = await startBouncer(result.config, { logger: createLogger('debug', sink) });
    connector = await SandboxConnector.start();
  });
  afterEach(async () => {
    await bouncer.close();
    await connector.close();
  });

  it('still takes unauthenticated activities, and refuses a body that is not one with 400', async () => {
    const bad = await fetch(`${bouncer.url}/api/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toBe('application/problem+json');
    expect(await bad.json()).toMatchObject({ type: 'urn:bouncer:problem:invalid-body', status: 400 });
    expect(logs.join('\n')).not.toMatch(/"stack"/);

    const id = randomUUID();
    const good = await fetch(`${bouncer.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id,
        channelId: 'emulator',
        serviceUrl: connector.url,
        from: { id: 'user-1', name: 'User' },
        recipient: { id: 'bot-1', name: 'Bouncer' },
        conversation: { id: 'conv-1' },
        text: '/help',
      }),
    });
    expect(good.status).toBe(200);
    const { activity } = await connector.waitForActivity((a) => a.replyToId === id);
    expect(String(activity.text)).toContain('/help');
  });
});
