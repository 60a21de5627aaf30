import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { envSchema, type ParsedEnv } from './config-schema.js';
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
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = issue.path.join('.');
      problems.push(issue.message.includes(key) ? issue.message : `${key}: ${issue.message}`);
    }
    return { ok: false, problems };
  }
  const e: ParsedEnv = parsed.data;

  const database = parseDatabaseUrl(e.DATABASE_URL, cwd);
  if ('problem' in database) problems.push(database.problem);

  const localMode = e.MicrosoftAppId === '';
  if (!localMode && e.MicrosoftAppType !== 'UserAssignedMSI' && e.MicrosoftAppPassword === '') {
    problems.push('MicrosoftAppPassword is required when MicrosoftAppId is set');
  }
  if (e.MicrosoftAppType === 'SingleTenant' && e.MicrosoftAppTenantId === '') {
    problems.push('MicrosoftAppTenantId is required when MicrosoftAppType is SingleTenant');
  }

  const tenantId = e.GRAPH_TENANT_ID ?? (e.MicrosoftAppTenantId || undefined);
  const clientId = e.GRAPH_CLIENT_ID ?? (e.MicrosoftAppId || undefined);
  const clientSecret = e.GRAPH_CLIENT_SECRET ?? (e.MicrosoftAppPassword || undefined);
  const graphGiven = [e.GRAPH_TENANT_ID, e.GRAPH_CLIENT_ID, e.GRAPH_CLIENT_SECRET].some((v) => v !== undefined);
  if (graphGiven && !(tenantId && clientId && clientSecret)) {
    const missing = [
      !tenantId && 'GRAPH_TENANT_ID (or MicrosoftAppTenantId)',
      !clientId && 'GRAPH_CLIENT_ID (or MicrosoftAppId)',
      !clientSecret && 'GRAPH_CLIENT_SECRET (or MicrosoftAppPassword)',
    ].filter(Boolean);
    problems.push(`Graph is partly configured; also set ${missing.join(', ')}`);
  }
  if (problems.length > 0 || 'problem' in database) return { ok: false, problems };

  const notices: string[] = [];
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
  if (!e.PUBLIC_BASE_URL) {
    notices.push('PUBLIC_BASE_URL is not set: Bouncer cannot join meeting calls, because Graph needs a public callback URL.');
  }

  const given = Object.fromEntries(
    BOT_ENDPOINT_KEYS.flatMap((key) => (e[key] === undefined ? [] : [[key, e[key]]])),
  ) as Record<string, string>;
  const endpointOverrides = Object.keys(given).length > 0 ? { ...BOT_ENDPOINT_DEFAULTS, ...given } : {};

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
    adminUserIds: new Set(e.ADMIN_USER_IDS),
    database,
    logLevel: e.LOG_LEVEL,
  };
  return { ok: true, config, notices };
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
