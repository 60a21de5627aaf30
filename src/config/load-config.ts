import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { BouncerError } from '../app/domain/errors.js';
import { PROVIDER_MODULES, type ProviderConfigs } from '../providers/index.js';
import type { ProviderConfigResult } from '../providers/provider-module.js';
import { coreEnvSchema, DEFAULT_DATABASE_URL, DEFAULT_UPSTREAM_CONCURRENCY, DEFAULT_UPSTREAM_TIMEOUT_MS, envSchema, type ParsedEnv } from './config-schema.js';
import { parseDatabaseUrl, type Config } from './config.js';
import { isLoopback } from './env-helpers.js';

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
  // botbuilder gets its outbound token through MSAL, which refuses an authority that is not https.
  const loginUrl = given.ToChannelFromBotLoginUrl?.trim();
  if (!localMode && appType !== 'UserAssignedMSI' && loginUrl && URL.canParse(loginUrl) && new URL(loginUrl).protocol === 'http:') {
    problems.push(
      'ToChannelFromBotLoginUrl must be an https URL when MicrosoftAppId is set: the Bot Framework token library (MSAL) refuses any other authority',
    );
  }

  // Each provider checks its own variables, in list order.
  const core = coreEnvSchema.safeParse(given);
  const bot = { appId, appPassword, appTenantId };
  const validated: Record<string, unknown> = parsed.success ? parsed.data : {};
  const upstreamTimeoutMs = core.success ? core.data.UPSTREAM_TIMEOUT_MS : DEFAULT_UPSTREAM_TIMEOUT_MS;
  const upstreamConcurrency = core.success ? core.data.UPSTREAM_CONCURRENCY : DEFAULT_UPSTREAM_CONCURRENCY;
  const providers = PROVIDER_MODULES.map((m) => ({ kind: m.kind, result: m.configure({ env: validated, given, bot, upstreamTimeoutMs, upstreamConcurrency }) }));
  for (const { result } of providers) problems.push(...result.problems);
  if (parsed.success && core.success && core.data.BOUNCER_SANDBOX) {
    problems.push(...sandboxProblems(core.data, providers.flatMap(({ result }) => result.endpoints), { bot: !localMode }));
  }
  if (!parsed.success || !core.success || problems.length > 0 || 'problem' in database) return { ok: false, problems };
  const e: ParsedEnv = core.data;

  const notices: string[] = [];
  if (e.BOUNCER_SANDBOX) {
    notices.push('SANDBOX MODE: Teams, Graph and Twilio are local protocol servers on this machine; calls and phone conferences are simulated.');
  }
  if (localMode) {
    notices.push(
      'MicrosoftAppId is empty: local mode, inbound Bot Framework authentication is off (for the Emulator or Agents Playground only).',
    );
  }
  for (const { result } of providers) notices.push(...result.notices);
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
    providers: providerConfigs(providers),
    joinTimeoutMs: e.CALL_JOIN_TIMEOUT_MS,
    upstreamTimeoutMs: e.UPSTREAM_TIMEOUT_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    commandDeadlineMs: e.COMMAND_DEADLINE_MS,
    chatReplyWaitMs: e.CHAT_REPLY_WAIT_MS,
    banNoticeIntervalMs: e.BAN_NOTICE_INTERVAL_MS,
    modlogIntervalMs: e.MODLOG_INTERVAL_MS,
    raidMode: e.RAID_MODE_JOINS,
    joinOnMeetingStart: e.JOIN_ON_MEETING_START,
    notifyRemoved: e.NOTIFY_REMOVED,
    moderatorRoles: e.MODERATOR_ROLES,
    adminUserIds: new Set(e.ADMIN_USER_IDS),
    webhookSecrets: e.WEBHOOK_SECRETS,
    webhookSyncWaitMs: e.WEBHOOK_SYNC_WAIT_MS,
    webhookNoticeWindowMs: e.WEBHOOK_NOTICE_WINDOW_MS,
    database,
    logLevel: e.LOG_LEVEL,
    sandbox: e.BOUNCER_SANDBOX,
  };
  return { ok: true, config, notices };
}

/** Every provider's configuration by kind; each is present once there are no problems. */
function providerConfigs(providers: Array<{ kind: string; result: ProviderConfigResult<unknown> }>): ProviderConfigs {
  const configs: Record<string, unknown> = {};
  for (const { kind, result } of providers) {
    if (result.config === undefined) throw new BouncerError('INTERNAL', `provider ${kind} gave no configuration and no problem`);
    configs[kind] = result.config;
  }
  // Built from PROVIDER_MODULES, so every kind has its own module's configuration.
  return configs as ProviderConfigs;
}

/**
 * Sandbox mode promises that nothing real is touched: every endpoint Bouncer would call with
 * credentials must be on this machine. The production defaults are not, so each must be set.
 * The providers' endpoints come first, in list order, then the Bot Framework's.
 */
function sandboxProblems(e: ParsedEnv, providerEndpoints: ProviderConfigResult<unknown>['endpoints'], inUse: { bot: boolean }): string[] {
  const endpoints = [
    ...providerEndpoints,
    { name: 'ToChannelFromBotLoginUrl', value: e.ToChannelFromBotLoginUrl ?? BOT_ENDPOINT_DEFAULTS.ToChannelFromBotLoginUrl, inUse: inUse.bot },
    {
      name: 'ToBotFromChannelOpenIdMetadataUrl',
      value: e.ToBotFromChannelOpenIdMetadataUrl ?? BOT_ENDPOINT_DEFAULTS.ToBotFromChannelOpenIdMetadataUrl,
      inUse: inUse.bot,
    },
  ];
  return endpoints
    .filter(({ value, inUse: used }) => used && !(value && isLoopback(value)))
    .map(({ name, value }) => `BOUNCER_SANDBOX is on, so ${name} must point at this machine (127.0.0.1, ::1 or localhost), not ${value}`);
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
