import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coreEnvSchema, envSchema } from '../../src/config/config-schema.js';
import { parseDatabaseUrl, type Config } from '../../src/config/config.js';
import { loadConfig, readEnvFile, type LoadConfigResult } from '../../src/config/load-config.js';
import { PROVIDER_MODULES } from '../../src/providers/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const cwd = path.resolve(os.tmpdir(), 'bouncer-config-test');

/** Asserts the environment is valid and returns its config and notices. */
function expectOk(result: LoadConfigResult): { config: Config; notices: string[] } {
  if (!result.ok) throw new Error(`expected a valid configuration, got problems:\n${result.problems.join('\n')}`);
  return result;
}

/** Asserts the environment is invalid and returns its problems. */
function expectProblems(result: LoadConfigResult): string[] {
  if (result.ok) throw new Error('expected configuration problems, got a valid configuration');
  return result.problems;
}

const botRegistration = {
  MicrosoftAppId: 'bot-app-id',
  MicrosoftAppPassword: 'bot-app-password',
  MicrosoftAppTenantId: 'bot-tenant-id',
};

describe('loadConfig: defaults', () => {
  it('accepts an empty environment in local mode with the documented defaults', () => {
    const { config } = expectOk(loadConfig({}, cwd));

    expect(config.bot.localMode).toBe(true);
    expect(config.bot.appType).toBe('MultiTenant');
    expect(config.bot.endpointOverrides).toEqual({});
    expect(config.server).toEqual({ port: 3978, host: '0.0.0.0', publicBaseUrl: undefined });
    expect(config.providers.teams).toEqual({
      credentials: undefined,
      clientId: undefined,
      baseUrl: 'https://graph.microsoft.com/v1.0',
      authorityHost: 'https://login.microsoftonline.com',
      callsOpenIdMetadataUrl: 'https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration',
      callsTokenIssuer: 'https://api.botframework.com',
      callsMaxBodyBytes: 32 * 1024 * 1024,
      timeoutMs: 15000,
      concurrency: 16,
    });
    expect(config.providers.twilio).toEqual({ account: undefined, baseUrl: 'https://api.twilio.com', timeoutMs: 15000, concurrency: 16, conferenceChats: [] });
    expect(config.joinTimeoutMs).toBe(15000);
    expect(config.upstreamTimeoutMs).toBe(15000);
    expect(config.adminUserIds.size).toBe(0);
    expect(config.database).toEqual({ kind: 'sqlite', path: path.join(cwd, 'data', 'bouncer.sqlite') });
    expect(config.logLevel).toBe('info');
  });

  it('says in its notices what is not configured', () => {
    const { notices } = expectOk(loadConfig({}, cwd));

    expect(notices).toHaveLength(4);
    expect(notices.some((n) => n.includes('WEBHOOK_SECRETS'))).toBe(true);
    expect(notices.some((n) => n.includes('MicrosoftAppId') && n.includes('local mode'))).toBe(true);
    expect(notices.some((n) => n.includes('Microsoft Graph is not configured'))).toBe(true);
    expect(notices.some((n) => n.includes('PUBLIC_BASE_URL'))).toBe(true);
  });

  it('has no notices once the bot, Graph, webhooks and the public URL are configured', () => {
    const { config, notices } = expectOk(
      loadConfig(
        { ...botRegistration, PUBLIC_BASE_URL: 'https://bouncer.example.com', WEBHOOK_SECRETS: `whsec_${Buffer.alloc(24, 7).toString('base64')}` },
        cwd,
      ),
    );

    expect(notices).toEqual([]);
    expect(config.bot.localMode).toBe(false);
    expect(config.server.publicBaseUrl).toBe('https://bouncer.example.com');
    expect(config.webhookSecrets).toHaveLength(1);
  });

  it('refuses webhook secrets that are not whsec_ with enough random bytes', () => {
    const result = loadConfig({ WEBHOOK_SECRETS: 'whsec_c2hvcnQ=,plain-password' }, cwd);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.join('\n')).toContain('WEBHOOK_SECRETS must be whsec_');
  });
});

describe('loadConfig: WEBHOOK_SECRETS scopes (issue 11, item 5)', () => {
  const secret = (n: number) => `whsec_${Buffer.alloc(24, n).toString('base64')}`;
  const conferenceSid = `CF${'a'.repeat(32)}`;

  it('reads each secret with the calls it may act on; no @ means any call', () => {
    const { config } = expectOk(
      loadConfig(
        { WEBHOOK_SECRETS: `${secret(1)}, ${secret(2)}@twilioConference:${conferenceSid}|twilioConference:Support bridge|conversationId:19:meeting_x@thread.v2|teamsCallId:abc` },
        cwd,
      ),
    );
    expect(config.webhookSecrets).toEqual([
      { secret: secret(1) },
      {
        secret: secret(2),
        scope: [
          { kind: 'call', provider: 'twilio', idOrName: conferenceSid },
          { kind: 'call', provider: 'twilio', idOrName: 'Support bridge' },
          { kind: 'conversation', conversationId: '19:meeting_x@thread.v2' },
          { kind: 'call', provider: 'teams', idOrName: 'abc' },
        ],
      },
    ]);
  });

  it('refuses a scope with an unknown key or an empty value, naming the keys', () => {
    const problems = expectProblems(loadConfig({ WEBHOOK_SECRETS: `${secret(1)}@tenant:abc,${secret(2)}@twilioConference:` }, cwd));
    expect(problems.join('\n')).toContain('conversationId, teamsCallId, twilioConference');
    expect(problems.join('\n')).toContain('"tenant:abc"');
    expect(problems.join('\n')).not.toContain(secret(1));
  });
});

describe('loadConfig: problems', () => {
  it('lists every problem at once, not only the first', () => {
    const problems = expectProblems(
      loadConfig({ PORT: 'abc', LOG_LEVEL: 'loud', GRAPH_BASE_URL: 'not-a-url', ADMIN_USER_IDS: 'bob' }, cwd),
    );

    expect(problems).toHaveLength(4);
    expect(problems.some((p) => p.includes('PORT') && p.includes('number'))).toBe(true);
    expect(problems.some((p) => p.includes('LOG_LEVEL') && p.includes('info'))).toBe(true);
    expect(problems.some((p) => p.includes('GRAPH_BASE_URL') && p.includes('http(s) URL'))).toBe(true);
    expect(problems.some((p) => p.includes('ADMIN_USER_IDS') && p.includes('GUID'))).toBe(true);
  });

  it('lists schema problems and cross-field problems together', () => {
    // The contract is "every problem at once": a bad PORT must not hide a missing password or a
    // bad DATABASE_URL, or the operator fixes one line, restarts, and meets the next problem.
    const problems = expectProblems(
      loadConfig({ PORT: 'abc', MicrosoftAppId: 'bot-app-id', DATABASE_URL: 'postgres://db/bouncer?max=0' }, cwd),
    );

    expect(problems.some((p) => p.includes('PORT'))).toBe(true);
    expect(problems.some((p) => p.includes('MicrosoftAppPassword'))).toBe(true);
    expect(problems.some((p) => p.includes('DATABASE_URL') && p.includes('max'))).toBe(true);
  });

  it('rejects a port out of range', () => {
    const problems = expectProblems(loadConfig({ PORT: '70000' }, cwd));
    expect(problems).toEqual([expect.stringContaining('PORT must be between 0 and 65535')]);
  });

  it('rejects an unknown MicrosoftAppType', () => {
    const problems = expectProblems(loadConfig({ MicrosoftAppType: 'Anything' }, cwd));
    expect(problems).toEqual([expect.stringContaining('MicrosoftAppType must be')]);
  });
});

describe('loadConfig: bot registration and Graph', () => {
  it('uses the bot registration for Graph when no GRAPH_* variable is set', () => {
    const { config } = expectOk(loadConfig(botRegistration, cwd));

    expect(config.providers.teams.credentials).toEqual({
      tenantId: 'bot-tenant-id',
      clientId: 'bot-app-id',
      clientSecret: 'bot-app-password',
    });
    expect(config.providers.teams.clientId).toBe('bot-app-id');
    expect(config.bot).toMatchObject({
      appId: 'bot-app-id',
      appPassword: 'bot-app-password',
      appTenantId: 'bot-tenant-id',
      localMode: false,
    });
  });

  it('lets explicit GRAPH_* values win over the bot registration', () => {
    const { config, notices } = expectOk(
      loadConfig(
        {
          ...botRegistration,
          GRAPH_TENANT_ID: 'graph-tenant',
          GRAPH_CLIENT_ID: 'graph-client',
          GRAPH_CLIENT_SECRET: 'graph-secret',
        },
        cwd,
      ),
    );

    expect(config.providers.teams.credentials).toEqual({
      tenantId: 'graph-tenant',
      clientId: 'graph-client',
      clientSecret: 'graph-secret',
    });
    expect(config.providers.teams.clientId).toBe('graph-client');
    expect(notices.some((n) => n.includes('Microsoft Graph is not configured'))).toBe(false);
  });

  it('configures Graph from GRAPH_* alone in local mode', () => {
    const { config } = expectOk(
      loadConfig({ GRAPH_TENANT_ID: 't', GRAPH_CLIENT_ID: 'c', GRAPH_CLIENT_SECRET: 's' }, cwd),
    );
    expect(config.bot.localMode).toBe(true);
    expect(config.providers.teams.credentials).toEqual({ tenantId: 't', clientId: 'c', clientSecret: 's' });
  });

  it('fills a single GRAPH_* override from the bot registration', () => {
    const { config } = expectOk(loadConfig({ ...botRegistration, GRAPH_CLIENT_SECRET: 'graph-secret' }, cwd));
    expect(config.providers.teams.credentials).toEqual({
      tenantId: 'bot-tenant-id',
      clientId: 'bot-app-id',
      clientSecret: 'graph-secret',
    });
  });

  it('reports partly-set GRAPH_* values, naming what is missing', () => {
    const problems = expectProblems(loadConfig({ GRAPH_CLIENT_ID: 'graph-client' }, cwd));

    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain('Graph is partly configured');
    expect(problems[0]).toContain('GRAPH_TENANT_ID');
    expect(problems[0]).toContain('GRAPH_CLIENT_SECRET');
    expect(problems[0]).not.toContain('GRAPH_CLIENT_ID');
  });

  it('treats blank GRAPH_* values as unset', () => {
    const { config } = expectOk(loadConfig({ GRAPH_TENANT_ID: '  ', GRAPH_CLIENT_ID: '' }, cwd));
    expect(config.providers.teams.credentials).toBeUndefined();
  });

  it('requires MicrosoftAppPassword when MicrosoftAppId is set', () => {
    const problems = expectProblems(loadConfig({ MicrosoftAppId: 'bot-app-id' }, cwd));
    expect(problems).toEqual(['MicrosoftAppPassword is required when MicrosoftAppId is set']);
  });

  it('does not require a password for a user-assigned managed identity', () => {
    const { config } = expectOk(loadConfig({ MicrosoftAppId: 'bot-app-id', MicrosoftAppType: 'UserAssignedMSI' }, cwd));
    expect(config.bot.appType).toBe('UserAssignedMSI');
    expect(config.providers.teams.credentials).toBeUndefined();
  });

  it('requires MicrosoftAppTenantId for a SingleTenant bot', () => {
    const problems = expectProblems(
      loadConfig({ MicrosoftAppId: 'bot-app-id', MicrosoftAppPassword: 'pw', MicrosoftAppType: 'SingleTenant' }, cwd),
    );
    expect(problems).toEqual(['MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant']);
  });

  it('overrides Bot Framework endpoints only when one is set, completing the rest with public-cloud values', () => {
    const { config } = expectOk(
      loadConfig(
        {
          ToBotFromChannelOpenIdMetadataUrl: 'http://127.0.0.1:4000/openid',
          ToChannelFromBotLoginUrl: ' http://127.0.0.1:4000/login ',
          ToBotFromChannelTokenIssuer: '',
        },
        cwd,
      ),
    );
    // botbuilder uses only what it is given once anything is overridden, so unset (or blank) keys
    // must still arrive, with the public-cloud value.
    expect(config.bot.endpointOverrides).toMatchObject({
      ToBotFromChannelOpenIdMetadataUrl: 'http://127.0.0.1:4000/openid',
      ToChannelFromBotLoginUrl: 'http://127.0.0.1:4000/login',
      ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
      ToChannelFromBotOAuthScope: 'https://api.botframework.com',
    });
  });
});

describe('loadConfig: Twilio', () => {
  const accountSid = `AC${'a1'.repeat(16)}`;
  const apiKeySid = `SK${'b2'.repeat(16)}`;

  it('configures the account with its auth token', () => {
    const { config, notices } = expectOk(loadConfig({ TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: ' token ' }, cwd));
    expect(config.providers.twilio).toEqual({
      account: { accountSid, authToken: 'token', apiKey: undefined },
      baseUrl: 'https://api.twilio.com',
      timeoutMs: 15000,
      concurrency: 16,
      conferenceChats: [],
    });
    expect(notices.some((n) => n.startsWith('TWILIO_AUTH_TOKEN'))).toBe(false);
  });

  it('configures an API key, and says that callbacks cannot be verified without the auth token', () => {
    const { config, notices } = expectOk(
      loadConfig({ TWILIO_ACCOUNT_SID: accountSid, TWILIO_API_KEY_SID: apiKeySid, TWILIO_API_KEY_SECRET: 'secret', TWILIO_API_BASE_URL: 'http://127.0.0.1:4004/' }, cwd),
    );
    expect(config.providers.twilio).toEqual({
      account: { accountSid, authToken: undefined, apiKey: { sid: apiKeySid, secret: 'secret' } },
      baseUrl: 'http://127.0.0.1:4004',
      timeoutMs: 15000,
      concurrency: 16,
      conferenceChats: [],
    });
    expect(notices).toContain(
      'TWILIO_AUTH_TOKEN is not set: Twilio conference callbacks cannot be verified and are refused, so kicks fall back to listing participants; ' +
        'and announcements (/warn, the notice before a removal) cannot be served to Twilio, so callers get none.',
    );
  });

  it('lists its problems in order: no account, a half API key, no way to authenticate', () => {
    expect(expectProblems(loadConfig({ TWILIO_AUTH_TOKEN: 'token', TWILIO_API_KEY_SID: apiKeySid }, cwd))).toEqual([
      'TWILIO_ACCOUNT_SID is required when other TWILIO_ credentials are set',
      'TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET go together',
    ]);
    expect(expectProblems(loadConfig({ TWILIO_ACCOUNT_SID: accountSid }, cwd))).toEqual([
      'TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)',
    ]);
  });

  it('lists Graph problems before Twilio problems, after the schema problems', () => {
    expect(expectProblems(loadConfig({ PORT: 'x', GRAPH_CLIENT_ID: 'c', TWILIO_AUTH_TOKEN: 'token' }, cwd))).toEqual([
      'PORT must be a number',
      'Graph is partly configured; also set GRAPH_TENANT_ID (or MicrosoftAppTenantId), GRAPH_CLIENT_SECRET (or MicrosoftAppPassword)',
      'TWILIO_ACCOUNT_SID is required when other TWILIO_ credentials are set',
    ]);
  });

  it('refuses malformed SIDs with their own message', () => {
    expect(expectProblems(loadConfig({ TWILIO_ACCOUNT_SID: 'AC123', TWILIO_AUTH_TOKEN: 'token' }, cwd))).toEqual([
      'TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits',
    ]);
  });
});

describe('loadConfig: value normalisation', () => {
  it('splits, trims and lower-cases ADMIN_USER_IDS', () => {
    const { config } = expectOk(
      loadConfig(
        { ADMIN_USER_IDS: ' 6B703CE3-6D14-4FE6-B90C-DC5F03657AE4 ,, 6d415fdd-f97e-4f70-ac45-e69601e4ecb2 ' },
        cwd,
      ),
    );
    expect([...config.adminUserIds]).toEqual([
      '6b703ce3-6d14-4fe6-b90c-dc5f03657ae4',
      '6d415fdd-f97e-4f70-ac45-e69601e4ecb2',
    ]);
  });

  it('removes trailing slashes from URLs', () => {
    const { config } = expectOk(
      loadConfig(
        {
          GRAPH_BASE_URL: 'http://127.0.0.1:4011/v1.0/',
          AZURE_AUTHORITY_HOST: 'https://127.0.0.1:4012//',
          PUBLIC_BASE_URL: 'https://bouncer.example.com/',
          CALLS_OPENID_METADATA_URL: 'http://127.0.0.1:4013/openid/',
        },
        cwd,
      ),
    );
    expect(config.providers.teams.baseUrl).toBe('http://127.0.0.1:4011/v1.0');
    expect(config.providers.teams.authorityHost).toBe('https://127.0.0.1:4012');
    expect(config.server.publicBaseUrl).toBe('https://bouncer.example.com');
    expect(config.providers.teams.callsOpenIdMetadataUrl).toBe('http://127.0.0.1:4013/openid');
  });

  it('rejects URLs that are not http(s)', () => {
    const problems = expectProblems(loadConfig({ PUBLIC_BASE_URL: 'ftp://bouncer.example.com' }, cwd));
    expect(problems).toEqual([expect.stringContaining('PUBLIC_BASE_URL must be an absolute http(s) URL')]);
  });

  it('reads TWILIO_CONFERENCE_CHATS (a conference to one chat or several), and refuses anything else', () => {
    const twilio = (env: Record<string, string>) => {
      const result = loadConfig({ TWILIO_ACCOUNT_SID: `AC${'a1'.repeat(16)}`, TWILIO_AUTH_TOKEN: 't', ...env }, cwd);
      return result;
    };
    const ok = expectOk(twilio({ TWILIO_CONFERENCE_CHATS: '{"Support bridge":"19:a@thread.v2","CF0123456789abcdef0123456789abcdef":["19:b@thread.v2","19:c@thread.v2"]}' }));
    expect(ok.config.providers.twilio?.conferenceChats).toEqual([
      { conference: 'Support bridge', conversationIds: ['19:a@thread.v2'] },
      { conference: 'CF0123456789abcdef0123456789abcdef', conversationIds: ['19:b@thread.v2', '19:c@thread.v2'] },
    ]);
    expect(expectOk(twilio({})).config.providers.twilio?.conferenceChats).toEqual([]);
    for (const bad of ['not json', '["19:a@thread.v2"]', '{"Support bridge":42}', '{"Support bridge":[]}', '{"":"19:a@thread.v2"}']) {
      expect(expectProblems(twilio({ TWILIO_CONFERENCE_CHATS: bad }))).toEqual([expect.stringContaining('TWILIO_CONFERENCE_CHATS must be a JSON object')]);
    }
  });

  it('reads the command deadline and the chat reply wait, and refuses values that cannot work', () => {
    const { config } = expectOk(loadConfig({ COMMAND_DEADLINE_MS: '30000', CHAT_REPLY_WAIT_MS: '5000' }, cwd));
    expect(config.commandDeadlineMs).toBe(30000);
    expect(config.chatReplyWaitMs).toBe(5000);
    expect(expectProblems(loadConfig({ COMMAND_DEADLINE_MS: '500' }, cwd))).toEqual([expect.stringContaining('COMMAND_DEADLINE_MS must be')]);
    // Teams drops a turn that has not answered in about 15 s: a longer wait would lose the reply.
    expect(expectProblems(loadConfig({ CHAT_REPLY_WAIT_MS: '20000' }, cwd))).toEqual([expect.stringContaining('CHAT_REPLY_WAIT_MS must be')]);
  });

  it('reads the webhook sync wait (default 5 s) and refuses values outside 100-60000 ms', () => {
    expect(expectOk(loadConfig({}, cwd)).config.webhookSyncWaitMs).toBe(5000);
    expect(expectOk(loadConfig({ WEBHOOK_SYNC_WAIT_MS: '300' }, cwd)).config.webhookSyncWaitMs).toBe(300);
    for (const bad of ['0', '99', '60001', '1.5', 'soon']) {
      expect(expectProblems(loadConfig({ WEBHOOK_SYNC_WAIT_MS: bad }, cwd))).toEqual([expect.stringContaining('WEBHOOK_SYNC_WAIT_MS must be')]);
    }
  });

  it('reads the mod-log interval (default 5 s) and refuses values outside 100-3600000 ms', () => {
    expect(expectOk(loadConfig({}, cwd)).config.modlogIntervalMs).toBe(5000);
    expect(expectOk(loadConfig({ MODLOG_INTERVAL_MS: '30000' }, cwd)).config.modlogIntervalMs).toBe(30000);
    for (const bad of ['0', '99', '3600001', '1.5', 'often']) {
      expect(expectProblems(loadConfig({ MODLOG_INTERVAL_MS: bad }, cwd))).toEqual([expect.stringContaining('MODLOG_INTERVAL_MS must be')]);
    }
  });

  it('reads numbers and the log level', () => {
    const { config } = expectOk(loadConfig({ PORT: ' 8080 ', CALL_JOIN_TIMEOUT_MS: '500', LOG_LEVEL: 'debug' }, cwd));
    expect(config.server.port).toBe(8080);
    expect(config.joinTimeoutMs).toBe(500);
    expect(config.logLevel).toBe('debug');
  });

  // A copied .env often keeps `NAME=` with nothing after it; that must mean "use the default", as it
  // already does for GRAPH_* (blank → unset), not port 0, a 0 ms join timeout or the cwd as database.
  it.each([
    ['PORT', (c: Config) => c.server.port, 3978],
    ['CALL_JOIN_TIMEOUT_MS', (c: Config) => c.joinTimeoutMs, 15000],
    ['UPSTREAM_TIMEOUT_MS', (c: Config) => c.upstreamTimeoutMs, 15000],
    ['COMMAND_DEADLINE_MS', (c: Config) => c.commandDeadlineMs, 60000],
    ['CHAT_REPLY_WAIT_MS', (c: Config) => c.chatReplyWaitMs, 8000],
    ['WEBHOOK_SYNC_WAIT_MS', (c: Config) => c.webhookSyncWaitMs, 5000],
    ['DATABASE_URL', (c: Config) => c.database, { kind: 'sqlite', path: path.join(cwd, 'data', 'bouncer.sqlite') }],
    ['PUBLIC_BASE_URL', (c: Config) => c.server.publicBaseUrl, undefined],
  ] as const)('treats a blank %s like an unset one', (name, read, expected) => {
    const { config } = expectOk(loadConfig({ [name]: '' }, cwd));
    expect(read(config)).toEqual(expected);
  });

  it('accepts a postgres:// DATABASE_URL', () => {
    const { config } = expectOk(loadConfig({ DATABASE_URL: 'postgres://user:pw@db:5432/bouncer' }, cwd));
    expect(config.database).toMatchObject({ kind: 'postgres', where: 'db:5432/bouncer', schema: 'public' });
  });

  it('reports a bad postgres:// DATABASE_URL without quoting its password', () => {
    const problems = expectProblems(loadConfig({ DATABASE_URL: 'postgres://user:s3cret@db:5432/bouncer?schema=1bad' }, cwd));
    expect(problems).toEqual([expect.stringContaining('schema must be')]);
    expect(problems.join(' ')).not.toContain('s3cret');
  });

  it('resolves a relative sqlite: DATABASE_URL against cwd', () => {
    const { config } = expectOk(loadConfig({ DATABASE_URL: 'sqlite:var/bouncer.db' }, cwd));
    expect(config.database).toEqual({ kind: 'sqlite', path: path.join(cwd, 'var', 'bouncer.db') });
  });

  it("accepts ':memory:' as DATABASE_URL", () => {
    const { config } = expectOk(loadConfig({ DATABASE_URL: ':memory:' }, cwd));
    expect(config.database).toEqual({ kind: 'sqlite', path: ':memory:' });
  });
});

describe('loadConfig: UPSTREAM_TIMEOUT_MS (issue 11, item 9)', () => {
  it('is the deadline of every Graph, Entra and Twilio call, given to each provider', () => {
    const { config } = expectOk(loadConfig({ UPSTREAM_TIMEOUT_MS: ' 200 ' }, cwd));
    expect(config.upstreamTimeoutMs).toBe(200);
    expect(config.providers.teams.timeoutMs).toBe(200);
    expect(config.providers.twilio.timeoutMs).toBe(200);
  });

  it.each(['abc', '0', '50', '1.5', '600000'])('refuses %j', (value) => {
    expect(expectProblems(loadConfig({ UPSTREAM_TIMEOUT_MS: value }, cwd))).toEqual([
      'UPSTREAM_TIMEOUT_MS must be a whole number of milliseconds from 100 to 300000',
    ]);
  });
});

describe('loadConfig: CALLS_MAX_BODY_BYTES (issue 12, item 6)', () => {
  it('is the largest Graph notification body read, 32 MiB unless set', () => {
    expect(expectOk(loadConfig({}, cwd)).config.providers.teams.callsMaxBodyBytes).toBe(33_554_432);
    expect(expectOk(loadConfig({ CALLS_MAX_BODY_BYTES: ' 1048576 ' }, cwd)).config.providers.teams.callsMaxBodyBytes).toBe(1_048_576);
    expect(expectOk(loadConfig({ CALLS_MAX_BODY_BYTES: '' }, cwd)).config.providers.teams.callsMaxBodyBytes).toBe(33_554_432);
  });

  it.each(['abc', '1000', '1.5', '268435457', '-1'])('refuses %j', (value) => {
    expect(expectProblems(loadConfig({ CALLS_MAX_BODY_BYTES: value }, cwd))).toEqual([
      'CALLS_MAX_BODY_BYTES must be a whole number of bytes from 65536 (64 KiB) to 268435456 (256 MiB)',
    ]);
  });
});

describe('loadConfig: configuration that cannot work is refused (issue 11, item 15)', () => {
  it('refuses an http AZURE_AUTHORITY_HOST, which @azure/identity refuses at start', () => {
    for (const host of ['http://login.microsoftonline.com', 'http://127.0.0.1:4012']) {
      expect(expectProblems(loadConfig({ ...botRegistration, AZURE_AUTHORITY_HOST: host }, cwd))).toEqual([
        'AZURE_AUTHORITY_HOST must be an https URL: @azure/identity refuses any other authority host',
      ]);
    }
    // Even when Graph is not configured: the value is wrong all the same.
    expect(expectProblems(loadConfig({ AZURE_AUTHORITY_HOST: 'http://login.example.com' }, cwd))).toHaveLength(1);
  });

  it('accepts the https authority hosts of sovereign clouds and of local token servers', () => {
    for (const host of ['https://login.microsoftonline.us', 'https://localhost:4002']) {
      expect(expectOk(loadConfig({ ...botRegistration, AZURE_AUTHORITY_HOST: host }, cwd)).config.providers.teams.authorityHost).toBe(host);
    }
  });

  it('refuses plain http to Graph, Twilio and the calls signing keys, except on this machine', () => {
    const problems = expectProblems(
      loadConfig(
        {
          GRAPH_BASE_URL: 'http://graph.microsoft.com/v1.0',
          CALLS_OPENID_METADATA_URL: 'http://api.aps.skype.com/v1/.well-known/OpenIdConfiguration',
          TWILIO_API_BASE_URL: 'http://api.twilio.com',
        },
        cwd,
      ),
    );
    expect(problems).toEqual([
      'GRAPH_BASE_URL must be an https URL (http only on this machine: 127.0.0.1, ::1 or localhost): Graph tokens are sent to it',
      'CALLS_OPENID_METADATA_URL must be an https URL (http only on this machine: 127.0.0.1, ::1 or localhost): the keys that sign call notifications come from it',
      'TWILIO_API_BASE_URL must be an https URL (http only on this machine: 127.0.0.1, ::1 or localhost): Twilio credentials are sent to it',
    ]);
    // The sandbox's protocol servers.
    expectOk(
      loadConfig(
        { GRAPH_BASE_URL: 'http://127.0.0.1:4001', CALLS_OPENID_METADATA_URL: 'http://[::1]:4003/openid', TWILIO_API_BASE_URL: 'http://localhost:4004' },
        cwd,
      ),
    );
  });

  it('refuses a TWILIO_API_BASE_URL with a path: the client replaces only the origin of the SDK URLs', () => {
    expect(expectProblems(loadConfig({ TWILIO_API_BASE_URL: 'https://api.twilio.com/2010-04-01' }, cwd))).toEqual([
      'TWILIO_API_BASE_URL must be an origin only (scheme, host and port), with no path, query or fragment',
    ]);
    expect(expectOk(loadConfig({ TWILIO_API_BASE_URL: 'https://api.twilio.com/' }, cwd)).config.providers.twilio.baseUrl).toBe('https://api.twilio.com');
  });

  it('refuses a query or fragment on a URL that paths are appended to', () => {
    const problems = expectProblems(
      loadConfig(
        {
          PUBLIC_BASE_URL: 'https://bouncer.example.com/?x=1',
          GRAPH_BASE_URL: 'https://graph.microsoft.com/v1.0#top',
          AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com?tenant=x',
        },
        cwd,
      ),
    );
    expect(problems).toEqual([
      'PUBLIC_BASE_URL must not have a query or fragment: paths are appended to it',
      'GRAPH_BASE_URL must not have a query or fragment: paths are appended to it',
      'AZURE_AUTHORITY_HOST must not have a query or fragment: paths are appended to it',
    ]);
  });

  it('refuses a Graph tenant id that @azure/identity refuses at start, naming where it came from', () => {
    expect(expectProblems(loadConfig({ ...botRegistration, GRAPH_TENANT_ID: 'contoso tenant' }, cwd))).toEqual([
      'GRAPH_TENANT_ID must be a tenant id (a GUID) or a domain such as contoso.onmicrosoft.com',
    ]);
    expect(expectProblems(loadConfig({ ...botRegistration, MicrosoftAppTenantId: 'contoso/tenant' }, cwd))).toEqual([
      'GRAPH_TENANT_ID (here MicrosoftAppTenantId) must be a tenant id (a GUID) or a domain such as contoso.onmicrosoft.com',
    ]);
    expectOk(loadConfig({ ...botRegistration, GRAPH_TENANT_ID: 'contoso.onmicrosoft.com' }, cwd));
  });

  it('refuses Bot Framework endpoints that are not URLs, and an http login URL for a bot with a password (MSAL refuses it)', () => {
    expect(expectProblems(loadConfig({ ToBotFromChannelOpenIdMetadataUrl: 'login.botframework.com/openid', ToChannelFromBotLoginUrl: 'nope' }, cwd))).toEqual([
      'ToBotFromChannelOpenIdMetadataUrl must be an absolute http(s) URL',
      'ToChannelFromBotLoginUrl must be an absolute http(s) URL',
    ]);
    expect(expectProblems(loadConfig({ ...botRegistration, ToChannelFromBotLoginUrl: 'http://127.0.0.1:4000/botframework.com' }, cwd))).toEqual([
      'ToChannelFromBotLoginUrl must be an https URL when MicrosoftAppId is set: the Bot Framework token library (MSAL) refuses any other authority',
    ]);
    // A managed identity does not use it.
    expectOk(loadConfig({ MicrosoftAppId: 'bot-app-id', MicrosoftAppType: 'UserAssignedMSI', ToChannelFromBotLoginUrl: 'http://127.0.0.1:4000/x' }, cwd));
  });

  it('says when Graph cannot call back to an http PUBLIC_BASE_URL (Twilio callbacks still can)', () => {
    const { notices } = expectOk(loadConfig({ ...botRegistration, PUBLIC_BASE_URL: 'http://bouncer.example.com' }, cwd));
    expect(notices).toContain(
      'PUBLIC_BASE_URL is not https: Graph delivers call notifications to https URLs only, so Bouncer cannot join Teams calls.',
    );
    expect(expectOk(loadConfig({ ...botRegistration, PUBLIC_BASE_URL: 'http://127.0.0.1:3978' }, cwd)).notices.join('\n')).not.toContain('is not https');
  });
});

describe('loadConfig: BOUNCER_SANDBOX', () => {
  const local = {
    GRAPH_TENANT_ID: 'sandbox-tenant',
    GRAPH_CLIENT_ID: 'sandbox-app',
    GRAPH_CLIENT_SECRET: 'sandbox-secret',
    GRAPH_BASE_URL: 'http://127.0.0.1:4001',
    AZURE_AUTHORITY_HOST: 'https://localhost:4002',
    CALLS_OPENID_METADATA_URL: 'http://[::1]:4003/.well-known/openid-configuration',
    TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`,
    TWILIO_AUTH_TOKEN: 'sandbox-token',
    TWILIO_API_BASE_URL: 'http://127.0.0.1:4004',
  };

  it('is off by default, and says so nowhere', () => {
    const { config, notices } = expectOk(loadConfig({}, cwd));
    expect(config.sandbox).toBe(false);
    expect(notices.join('\n')).not.toMatch(/sandbox/i);
  });

  it('accepts every endpoint on this machine, and announces itself', () => {
    const { config, notices } = expectOk(loadConfig({ BOUNCER_SANDBOX: 'true', ...local }, cwd));
    expect(config.sandbox).toBe(true);
    expect(notices[0]).toMatch(/^SANDBOX MODE: /);
  });

  it('refuses, all at once, every endpoint that would reach a real service', () => {
    const problems = expectProblems(
      loadConfig(
        {
          BOUNCER_SANDBOX: '1',
          ...local,
          GRAPH_BASE_URL: '',
          AZURE_AUTHORITY_HOST: 'https://login.microsoftonline.com',
          TWILIO_API_BASE_URL: 'https://api.twilio.com',
          ...botRegistration,
        },
        cwd,
      ),
    );
    expect(problems).toEqual([
      'BOUNCER_SANDBOX is on, so GRAPH_BASE_URL must point at this machine (127.0.0.1, ::1 or localhost), not https://graph.microsoft.com/v1.0',
      'BOUNCER_SANDBOX is on, so AZURE_AUTHORITY_HOST must point at this machine (127.0.0.1, ::1 or localhost), not https://login.microsoftonline.com',
      'BOUNCER_SANDBOX is on, so TWILIO_API_BASE_URL must point at this machine (127.0.0.1, ::1 or localhost), not https://api.twilio.com',
      'BOUNCER_SANDBOX is on, so ToChannelFromBotLoginUrl must point at this machine (127.0.0.1, ::1 or localhost), not https://login.microsoftonline.com/botframework.com',
      'BOUNCER_SANDBOX is on, so ToBotFromChannelOpenIdMetadataUrl must point at this machine (127.0.0.1, ::1 or localhost), not https://login.botframework.com/v1/.well-known/openidconfiguration',
    ]);
  });

  it('does not check endpoints of services that are not configured', () => {
    const { config } = expectOk(loadConfig({ BOUNCER_SANDBOX: 'yes' }, cwd));
    expect(config.sandbox).toBe(true);
  });

  it('says what it accepts when the value is not a boolean', () => {
    expect(expectProblems(loadConfig({ BOUNCER_SANDBOX: 'maybe' }, cwd))).toEqual(['BOUNCER_SANDBOX must be true or false']);
  });
});

describe('parseDatabaseUrl', () => {
  it.each([
    ['sqlite:./data/bouncer.sqlite', path.join(cwd, 'data', 'bouncer.sqlite')],
    ['sqlite:data.db', path.join(cwd, 'data.db')],
    ['file:./x/y.db', path.join(cwd, 'x', 'y.db')],
    ['sqlite:///var/lib/bouncer.db', '/var/lib/bouncer.db'],
    ['plain/relative.db', path.join(cwd, 'plain', 'relative.db')],
    [':memory:', ':memory:'],
    ['sqlite::memory:', ':memory:'],
  ])('%s → %s', (url, expected) => {
    expect(parseDatabaseUrl(url, cwd)).toEqual({ kind: 'sqlite', path: expected });
  });

  it.each(['postgres://db/bouncer', 'postgresql://db/bouncer', 'POSTGRES://db/bouncer'])('%s → PostgreSQL', (url) => {
    expect(parseDatabaseUrl(url, cwd)).toMatchObject({ kind: 'postgres', where: 'db:5432/bouncer' });
  });

  it('rejects other schemes', () => {
    expect(parseDatabaseUrl('mysql://db/bouncer', cwd)).toEqual({ problem: expect.stringContaining('unsupported scheme') });
  });

  it('configuration problems never print the password of DATABASE_URL', () => {
    const loaded = loadConfig({ DATABASE_URL: 'mongodb://admin:hunter2@db/bouncer' }, '/srv');
    expect(loaded.ok).toBe(false);
    expect(JSON.stringify(loaded)).not.toContain('hunter2');
    expect(JSON.stringify(loaded)).toContain('mongodb://admin:***@db/bouncer');
  });
});

describe('readEnvFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-env-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('returns {} when the file does not exist', () => {
    expect(readEnvFile(path.join(dir, 'missing.env'))).toEqual({});
  });

  it('parses KEY=value lines, quotes and comments', () => {
    const file = path.join(dir, '.env');
    writeFileSync(
      file,
      [
        '# Bouncer settings',
        'PORT=4000',
        'LOG_LEVEL="debug"',
        "MicrosoftAppPassword='p#ss word'",
        'ADMIN_USER_IDS="6b703ce3-6d14-4fe6-b90c-dc5f03657ae4, 6d415fdd-f97e-4f70-ac45-e69601e4ecb2"',
        '',
      ].join('\n'),
    );

    expect(readEnvFile(file)).toEqual({
      PORT: '4000',
      LOG_LEVEL: 'debug',
      MicrosoftAppPassword: 'p#ss word',
      ADMIN_USER_IDS: '6b703ce3-6d14-4fe6-b90c-dc5f03657ae4, 6d415fdd-f97e-4f70-ac45-e69601e4ecb2',
    });
  });

  it('throws when the path exists but cannot be read as a file', () => {
    expect(() => readEnvFile(dir)).toThrow();
  });
});

describe('.env.example documents envSchema', () => {
  const exampleFile = path.join(repoRoot, '.env.example');
  const schemaNames = Object.keys(envSchema.shape).sort();

  /** `NAME=` at the start of a line, or commented out as `# NAME=`. */
  function documentedNames(): string[] {
    expect(existsSync(exampleFile), `${exampleFile} is missing: it must document every variable of envSchema`).toBe(true);
    const names = new Set<string>();
    for (const line of readFileSync(exampleFile, 'utf8').split(/\r?\n/)) {
      const match = /^(?:#\s*)?([A-Za-z_][A-Za-z0-9_]*)=/.exec(line);
      if (match) names.add(match[1]!);
    }
    return [...names].sort();
  }

  it('names every schema variable', () => {
    const documented = new Set(documentedNames());
    expect(schemaNames.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('names no variable the schema does not read', () => {
    expect(documentedNames().filter((name) => !schemaNames.includes(name))).toEqual([]);
  });

  it("has every variable in exactly one part: Bouncer's own or one provider's slice", () => {
    const parts = [Object.keys(coreEnvSchema.shape), ...PROVIDER_MODULES.map((m) => Object.keys(m.env.shape))].flat();
    expect(parts.sort()).toEqual(schemaNames);
  });
});

describe('loadConfig: RAID_MODE_JOINS (issue 14, item 2)', () => {
  it('is off by default, and reads <joins>/<seconds>s', () => {
    expect(expectOk(loadConfig({}, cwd)).config.raidMode).toBeUndefined();
    expect(expectOk(loadConfig({ RAID_MODE_JOINS: '10/10s' }, cwd)).config.raidMode).toEqual({ joins: 10, windowMs: 10_000 });
    expect(expectOk(loadConfig({ RAID_MODE_JOINS: ' 25 / 60S ' }, cwd)).config.raidMode).toEqual({ joins: 25, windowMs: 60_000 });
    expect(expectOk(loadConfig({ RAID_MODE_JOINS: 'off' }, cwd)).config.raidMode).toBeUndefined();
  });
  it('refuses anything else, saying the shape it wants', () => {
    for (const bad of ['10', '10/10', '0/10s', '10/0s', 'ten/10s', '10/10m']) {
      expect(expectProblems(loadConfig({ RAID_MODE_JOINS: bad }, cwd)).join('\n')).toContain('RAID_MODE_JOINS must be <joins>/<seconds>s');
    }
  });
});
