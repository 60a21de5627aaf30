import path from 'node:path';

/** Where the store lives. Only SQLite is implemented today. */
export interface DatabaseConfig {
  kind: 'sqlite';
  /** File path, or ':memory:'. */
  path: string;
}

/** Bot Framework settings, in botbuilder's own key names where botbuilder reads them. */
export interface BotConfig {
  appId: string;
  appPassword: string;
  appTenantId: string;
  appType: 'MultiTenant' | 'SingleTenant' | 'UserAssignedMSI';
  /** True when no app id is set: inbound auth is off, as the Emulator and Agents Playground expect. */
  localMode: boolean;
  /** Optional endpoint overrides passed straight to ConfigurationBotFrameworkAuthentication. */
  endpointOverrides: Record<string, string>;
}

export interface GraphConfig {
  /** Present only when tenant, client id and secret are all known. */
  credentials?: { tenantId: string; clientId: string; clientSecret: string };
  /** The Graph application (client) id, used as the audience of call notifications. */
  clientId?: string;
  baseUrl: string;
  authorityHost: string;
}

export interface CallsConfig {
  openIdMetadataUrl: string;
  tokenIssuer: string;
  joinTimeoutMs: number;
}

export interface TwilioConfig {
  accountSid: string;
  /** Verifies conference callbacks; also authenticates the API when no API key is set. */
  authToken?: string;
  apiKey?: { sid: string; secret: string };
  baseUrl: string;
}

/** The whole validated configuration; built once by loadConfig and passed down. */
export interface Config {
  server: { port: number; host: string; publicBaseUrl?: string };
  bot: BotConfig;
  graph: GraphConfig;
  calls: CallsConfig;
  /** Present only when an account and a way to authenticate are configured. */
  twilio?: TwilioConfig;
  adminUserIds: ReadonlySet<string>;
  /** Standard Webhooks secrets (whsec_…) for POST /api/moderation/kick; empty = API closed. */
  webhookSecrets: string[];
  database: DatabaseConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Sandbox mode: every vendor endpoint is a local protocol server; nobody real can be removed. */
  sandbox: boolean;
}

/** Turns a DATABASE_URL into a store location, or explains why it cannot. */
export function parseDatabaseUrl(value: string, cwd: string): DatabaseConfig | { problem: string } {
  if (value === ':memory:' || value === 'sqlite::memory:') return { kind: 'sqlite', path: ':memory:' };
  if (/^postgres(ql)?:\/\//i.test(value)) {
    return { problem: 'DATABASE_URL: PostgreSQL is not supported yet; use sqlite:<path> (the default)' };
  }
  const match = /^(?:sqlite|file):(?:\/\/)?(.+)$/i.exec(value);
  const file = match ? match[1]! : value;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file)) {
    return { problem: `DATABASE_URL: unsupported scheme in "${value}"; use sqlite:<path>` };
  }
  return { kind: 'sqlite', path: path.resolve(cwd, file) };
}
