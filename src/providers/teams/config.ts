import { z } from 'zod';
import { isLoopback, optionalString, readSlice, url } from '../../config/env-helpers.js';
import type { ProviderConfigResult, ProviderEnvInput } from '../provider-module.js';

/**
 * The largest Graph call notification /api/calls reads, when CALLS_MAX_BODY_BYTES is not set. A
 * roster notification carries the whole roster, about 1 KB a participant with its media streams:
 * 32 MiB takes some 25,000 (a 10,000-person meeting is about 8 MB). Only a caller whose token
 * verifies gets its body read at all.
 */
export const DEFAULT_CALLS_MAX_BODY_BYTES = 32 * 1024 * 1024;
const CALLS_MAX_BODY_MESSAGE = 'CALLS_MAX_BODY_BYTES must be a whole number of bytes from 65536 (64 KiB) to 268435456 (256 MiB)';

/**
 * Teams' environment variables (documented in .env.example): Microsoft Graph with application
 * permissions, defaulting to the bot's app registration, and the calling platform's signed
 * notifications.
 */
export const teamsEnv = z.object({
  GRAPH_TENANT_ID: optionalString,
  GRAPH_CLIENT_ID: optionalString,
  GRAPH_CLIENT_SECRET: optionalString,
  GRAPH_BASE_URL: url('GRAPH_BASE_URL', { https: 'off-loopback', why: 'Graph tokens are sent to it', base: true }).default(
    'https://graph.microsoft.com/v1.0',
  ),
  // @azure/identity refuses an http authority host when the credential is built, even on this machine.
  AZURE_AUTHORITY_HOST: url('AZURE_AUTHORITY_HOST', { https: 'always', why: '@azure/identity refuses any other authority host', base: true }).default(
    'https://login.microsoftonline.com',
  ),
  // Graph call notifications (JWT-signed by the calling platform).
  CALLS_OPENID_METADATA_URL: url('CALLS_OPENID_METADATA_URL', {
    https: 'off-loopback',
    why: 'the keys that sign call notifications come from it',
  }).default('https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration'),
  CALLS_TOKEN_ISSUER: z.string().trim().min(1).default('https://api.botframework.com'),
  CALLS_MAX_BODY_BYTES: z
    .string()
    .trim()
    .default(String(DEFAULT_CALLS_MAX_BODY_BYTES))
    .pipe(z.coerce.number<string>({ message: CALLS_MAX_BODY_MESSAGE }).int(CALLS_MAX_BODY_MESSAGE).min(64 * 1024, CALLS_MAX_BODY_MESSAGE).max(256 * 1024 * 1024, CALLS_MAX_BODY_MESSAGE)),
});

export interface GraphCredentials {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

/** Teams calls through Microsoft Graph. */
export interface TeamsConfig {
  /** Present only when tenant, client id and secret are all known: Teams calls can be reached. */
  credentials?: GraphCredentials;
  /** The Graph application (client) id, used as the audience of call notifications. */
  clientId?: string;
  /** e.g. https://graph.microsoft.com/v1.0 (no trailing slash). */
  baseUrl: string;
  authorityHost: string;
  /** OpenID configuration whose keys sign call notifications. */
  callsOpenIdMetadataUrl: string;
  /** The issuer call notification tokens carry. */
  callsTokenIssuer: string;
  /** The largest call notification body read (CALLS_MAX_BODY_BYTES). */
  callsMaxBodyBytes: number;
  /** The deadline of each Graph request, token request and signing-key fetch (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  /** Graph requests in flight at once for this tenant and app (UPSTREAM_CONCURRENCY). */
  concurrency: number;
}

/** The tenant ids @azure/identity accepts (its checkTenantId): a GUID or a domain name. */
const TENANT_ID_PATTERN = /^[0-9a-zA-Z.-]+$/;

/** Teams' part of loadConfig: the Graph credentials (GRAPH_* or the bot registration), its notice and sandbox endpoints. */
export function configureTeams(input: ProviderEnvInput): ProviderConfigResult<TeamsConfig> {
  const { given, bot } = input;
  const problems: string[] = [];
  const notices: string[] = [];

  // Checks across variables run on the raw values, so that they are listed with every other problem.
  const tenantId = given.GRAPH_TENANT_ID?.trim() ?? (bot.appTenantId || undefined);
  const clientId = given.GRAPH_CLIENT_ID?.trim() ?? (bot.appId || undefined);
  const clientSecret = given.GRAPH_CLIENT_SECRET ?? (bot.appPassword || undefined);
  const graphGiven = [given.GRAPH_TENANT_ID, given.GRAPH_CLIENT_ID, given.GRAPH_CLIENT_SECRET].some((v) => v !== undefined);
  const credentials = tenantId && clientId && clientSecret ? { tenantId, clientId, clientSecret } : undefined;
  if (graphGiven && !credentials) {
    const missing = [
      !tenantId && 'GRAPH_TENANT_ID (or MicrosoftAppTenantId)',
      !clientId && 'GRAPH_CLIENT_ID (or MicrosoftAppId)',
      !clientSecret && 'GRAPH_CLIENT_SECRET (or MicrosoftAppPassword)',
    ].filter(Boolean);
    problems.push(`Graph is partly configured; also set ${missing.join(', ')}`);
  }
  if (tenantId && !TENANT_ID_PATTERN.test(tenantId)) {
    const source = given.GRAPH_TENANT_ID === undefined ? ' (here MicrosoftAppTenantId)' : '';
    problems.push(`GRAPH_TENANT_ID${source} must be a tenant id (a GUID) or a domain such as contoso.onmicrosoft.com`);
  }
  if (!credentials) {
    notices.push(
      'Microsoft Graph is not configured (GRAPH_TENANT_ID, GRAPH_CLIENT_ID, GRAPH_CLIENT_SECRET or the MicrosoftApp* values): /kick will explain that Teams calls cannot be reached.',
    );
  }

  // Graph posts call notifications to https callback URLs only (callbackUri, Graph v1.0 calls).
  // Not a problem: Twilio callbacks can still reach an http PUBLIC_BASE_URL.
  const publicBaseUrl = given.PUBLIC_BASE_URL?.trim();
  if (credentials && publicBaseUrl && URL.canParse(publicBaseUrl) && new URL(publicBaseUrl).protocol === 'http:' && !isLoopback(publicBaseUrl)) {
    notices.push('PUBLIC_BASE_URL is not https: Graph delivers call notifications to https URLs only, so Bouncer cannot join Teams calls.');
  }

  const e = readSlice(teamsEnv, given);
  if (!e) return { problems, notices, endpoints: [] };
  const inUse = !!credentials;
  return {
    problems,
    notices,
    endpoints: [
      { name: 'GRAPH_BASE_URL', value: e.GRAPH_BASE_URL, inUse },
      { name: 'AZURE_AUTHORITY_HOST', value: e.AZURE_AUTHORITY_HOST, inUse },
      { name: 'CALLS_OPENID_METADATA_URL', value: e.CALLS_OPENID_METADATA_URL, inUse },
    ],
    config:
      problems.length > 0
        ? undefined
        : {
            credentials,
            clientId,
            baseUrl: e.GRAPH_BASE_URL,
            authorityHost: e.AZURE_AUTHORITY_HOST,
            callsOpenIdMetadataUrl: e.CALLS_OPENID_METADATA_URL,
            callsTokenIssuer: e.CALLS_TOKEN_ISSUER,
            callsMaxBodyBytes: e.CALLS_MAX_BODY_BYTES,
            timeoutMs: input.upstreamTimeoutMs,
            concurrency: input.upstreamConcurrency,
          },
  };
}
