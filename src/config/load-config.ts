import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { DEFAULT_DATABASE_URL, envSchema, type ParsedEnv } from './config-schema.js';
import { parseDatabaseUrl, type Config } from './config.js';

export type LoadConfigResult = { ok: true; config: Config; notices: string[] } | { ok: false; problems: string[] };

const BOT_ENDPOINT_KEYS = [
  'ToBotFromChannelOpenIdMetadataUrl',
  'ToBotFromChannelTokenIssuer',
  'ToChannelFromBotLoginUrl',
  'ToChannelFromBotOAuthScope',
] as const;

/**
 * Public-cloud Bot Framework endpoints (botframework-connector's AuthenticationConstants). Once any
 * endpoint is overridden botbuilder uses only what it is given, so the rest come from here.
 */
const BOT_ENDPOINT_DEFAULTS: Record<string, string> = {
  ToBotFromChannelOpenIdMetadataUrl: 'https://login.botframework.com/v1/.well-known/openidconfiguration',
  ToBotFromChannelTokenIssuer: 'https://api.botframework.com',
  ToChannelFromBotLoginUrl: 'https://login.microsoftonline.com/botframework.com',
  ToChannelFromBotOAuthScope: 'https://api.botframework.com',
  ToBotFromEmulatorOpenIdMetadataUrl: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
  OAuthUrl: 'https://api.botframework.com',
  CallerId: 'urn:botframework:azure',
};

/**
 * Validates the environment. Returns every problem at once (never the first only), or the config
 * plus notices that say what is not configured (local mode is legitimate, but should be said).
 */
export function loadConfig(env: Record<string, string | undefined>, cwd = process.cwd()): LoadConfigResult {
  // `NAME=` (blank) means "use the default", as it does for every dotenv user.
  const given = Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1].trim() !== ''),
  );
  const parsed = envSchema.safeParse(given);
  const problems: string[] = parsed.success
    ? []
    : parsed.error.issues.map((issue) => {
        const key = issue.path.join('.');
        return issue.message.includes(key) ? issue.message : `${key}: ${issue.message}`;
      });

  // Checks across variables run on the raw values too, so that every problem is listed at once.
  const appId = given.MicrosoftAppId?.trim() ?? '';
  const appPassword = given.MicrosoftAppPassword ?? '';
  const appTenantId = given.MicrosoftAppTenantId?.trim() ?? '';
  const appType = given.MicrosoftAppType?.trim() ?? 'MultiTenant';
  const database = parseDatabaseUrl(given.DATABASE_URL?.trim() ?? DEFAULT_DATABASE_URL, cwd);
  if ('problem' in database) problems.push(database.problem);

  const localMode = appId === '';
  if (!localMode && appType !== 'UserAssignedMSI' && appPassword === '') {
    problems.push('MicrosoftAppPassword is required when MicrosoftAppId is set');
  }
  if (appType === 'SingleTenant' && appTenantId === '') {
    problems.push('MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant');
  }

  const tenantId = given.GRAPH_TENANT_ID?.trim() ?? (appTenantId || undefined);
  const clientId = given.GRAPH_CLIENT_ID?.trim() ?? (appId || undefined);
  const clientSecret = given.GRAPH_CLIENT_SECRET ?? (appPassword || undefined);
  const graphGiven = [given.GRAPH_TENANT_ID, given.GRAPH_CLIENT_ID, given.GRAPH_CLIENT_SECRET].some((v) => v !== undefined);
  if (graphGiven && !(tenantId && clientId && clientSecret)) {
    const missing = [
      !tenantId && 'GRAPH_TENANT_ID (or MicrosoftAppTenantId)',
      !clientId && 'GRAPH_CLIENT_ID (or MicrosoftAppId)',
      !clientSecret && 'GRAPH_CLIENT_SECRET (or MicrosoftAppPassword)',
    ].filter(Boolean);
    problems.push(`Graph is partly configured; also set ${missing.join(', ')}`);
  }
  const twilioSid = given.TWILIO_ACCOUNT_SID?.trim();
  const twilioToken = given.TWILIO_AUTH_TOKEN?.trim();
  const keySid = given.TWILIO_API_KEY_SID?.trim();
  const keySecret = given.TWILIO_API_KEY_SECRET?.trim();
  if ((twilioToken || keySid || keySecret) && !twilioSid) problems.push('TWILIO_ACCOUNT_SID is required when other TWILIO_ credentials are set');
  if (!!keySid !== !!keySecret) problems.push('TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET go together');
  if (twilioSid && !twilioToken && !(keySid && keySecret)) {
    problems.push('TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)');
  }
  if (parsed.success && parsed.data.BOUNCER_SANDBOX) {
    problems.push(...sandboxProblems(parsed.data, { graph: !!(tenantId && clientId && clientSecret), bot: !localMode }));
  }
  if (!parsed.success || problems.length > 0 || 'problem' in database) return { ok: false, problems };
  const e: ParsedEnv = parsed.data;

  const notices: string[] = [];
  if (e.BOUNCER_SANDBOX) {
    notices.push('SANDBOX MODE: Teams, Graph and Twilio are local protocol servers on this machine; calls and phone conferences are simulated.');
  }
  if (localMode) {
    notices.push(
      'MicrosoftAppId is empty: local mode, inbound Bot Framework authentication is off (for the Emulator or Agents Playground only).',
    );
  }
  const credentials = tenantId && clientId && clientSecret ? { tenantId, clientId, clientSecret } : undefined;
  if (!credentials) {
    notices.push(
      'Microsoft Graph is not configured (GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET or the MicrosoftApp* values): /kick will explain that Teams calls cannot be reached.',
    );
  }
  if (e.TWILIO_ACCOUNT_SID && !e.TWILIO_AUTH_TOKEN) {
    notices.push('TWILIO_AUTH_TOKEN is not set: Twilio conference callbacks cannot be verified and are refused, so kicks fall back to listing participants.');
  }
  if (e.WEBHOOK_SECRETS.length === 0) {
    notices.push('WEBHOOK_SECRETS is not set: POST /api/moderation/kick refuses every request.');
  }
  if (!e.PUBLIC_BASE_URL) {
    notices.push('PUBLIC_BASE_URL is not set: Bouncer cannot join meeting calls, because Graph needs a public callback URL.');
  }

  const overridden = Object.fromEntries(
    BOT_ENDPOINT_KEYS.flatMap((key) => (e[key] === undefined ? [] : [[key, e[key]]])),
  ) as Record<string, string>;
  const endpointOverrides = Object.keys(overridden).length > 0 ? { ...BOT_ENDPOINT_DEFAULTS, ...overridden } : {};

  const config: Config = {
    server: { port: e.PORT, host: e.HOST, publicBaseUrl: e.PUBLIC_BASE_URL },
    bot: {
      appId: e.MicrosoftAppId,
      appPassword: e.MicrosoftAppPassword,
      appTenantId: e.MicrosoftAppTenantId,
      appType: e.MicrosoftAppType,
      localMode,
      endpointOverrides,
    },
    graph: { credentials, clientId, baseUrl: e.GRAPH_BASE_URL, authorityHost: e.AZURE_AUTHORITY_HOST },
    calls: {
      openIdMetadataUrl: e.CALLS_OPENID_METADATA_URL,
      tokenIssuer: e.CALLS_TOKEN_ISSUER,
      joinTimeoutMs: e.CALL_JOIN_TIMEOUT_MS,
    },
    twilio: e.TWILIO_ACCOUNT_SID
      ? {
          accountSid: e.TWILIO_ACCOUNT_SID,
          authToken: e.TWILIO_AUTH_TOKEN,
          apiKey: e.TWILIO_API_KEY_SID && e.TWILIO_API_KEY_SECRET ? { sid: e.TWILIO_API_KEY_SID, secret: e.TWILIO_API_KEY_SECRET } : undefined,
          baseUrl: e.TWILIO_API_BASE_URL,
        }
      : undefined,
    adminUserIds: new Set(e.ADMIN_USER_IDS),
    webhookSecrets: e.WEBHOOK_SECRETS,
    database,
    logLevel: e.LOG_LEVEL,
    sandbox: e.BOUNCER_SANDBOX,
  };
  return { ok: true, config, notices };
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function isLoopback(url: string): boolean {
  return URL.canParse(url) && LOOPBACK_HOSTS.has(new URL(url).hostname);
}

/**
 * Sandbox mode promises that nothing real is touched: every endpoint Bouncer would call with
 * credentials must be on this machine. The production defaults are not, so each must be set.
 */
function sandboxProblems(e: ParsedEnv, inUse: { graph: boolean; bot: boolean }): string[] {
  const endpoints: Array<[string, string | undefined, boolean]> = [
    ['GRAPH_BASE_URL', e.GRAPH_BASE_URL, inUse.graph],
    ['AZURE_AUTHORITY_HOST', e.AZURE_AUTHORITY_HOST, inUse.graph],
    ['CALLS_OPENID_METADATA_URL', e.CALLS_OPENID_METADATA_URL, inUse.graph],
    ['TWILIO_API_BASE_URL', e.TWILIO_API_BASE_URL, !!e.TWILIO_ACCOUNT_SID],
    ['ToChannelFromBotLoginUrl', e.ToChannelFromBotLoginUrl ?? BOT_ENDPOINT_DEFAULTS.ToChannelFromBotLoginUrl, inUse.bot],
    [
      'ToBotFromChannelOpenIdMetadataUrl',
      e.ToBotFromChannelOpenIdMetadataUrl ?? BOT_ENDPOINT_DEFAULTS.ToBotFromChannelOpenIdMetadataUrl,
      inUse.bot,
    ],
  ];
  return endpoints
    .filter(([, value, used]) => used && !(value && isLoopback(value)))
    .map(([name, value]) => `BOUNCER_SANDBOX is on, so ${name} must point at this machine (127.0.0.1, ::1 or localhost), not ${value}`);
}

/**
 * Reads a dotenv file if it exists. Values already in the process environment win, as with dotenv.
 * A missing file is normal (returns {}); an unreadable one is an error.
 */
export function readEnvFile(file: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  return parseEnv(text) as Record<string, string>;
}
