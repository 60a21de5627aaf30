import type { ModeratorRole } from './config-schema.js';
import type { WebhookSecret } from '../app/moderation/requests.js';
import type { ProviderConfigs } from '../providers/index.js';
import type { UrlProblem } from '../store/driver.js';
import { parseStoreUrl, type StoreLocation } from '../store/drivers.js';

/**
 * Where the store lives: the location of one of the store drivers (src/store/drivers.ts):
 * `{ kind: 'sqlite', path }`, path being a file path or ':memory:', or `{ kind: 'postgres', url, … }`.
 */
export type DatabaseConfig = StoreLocation;

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

/** The whole validated configuration; built once by loadConfig and passed down. */
export interface Config {
  server: { port: number; host: string; publicBaseUrl?: string };
  bot: BotConfig;
  /** Each calling backend's own configuration, by kind (src/providers/<kind>/config.ts). */
  providers: ProviderConfigs;
  /** How long an action waits for a call it has just joined to be established (CALL_JOIN_TIMEOUT_MS). */
  joinTimeoutMs: number;
  /** The deadline of each upstream call: Graph, Entra tokens, the calls signing keys, Twilio (UPSTREAM_TIMEOUT_MS). */
  upstreamTimeoutMs: number;
  /** The overall deadline of one command, every upstream call and wait made for it included (COMMAND_DEADLINE_MS). */
  commandDeadlineMs: number;
  /** How long a chat turn waits for a command before it answers "working on it" and follows up later (CHAT_REPLY_WAIT_MS). */
  chatReplyWaitMs: number;
  /** After the first notice of a banned person's removal, at most one summary per chat per this interval (BAN_NOTICE_INTERVAL_MS). */
  banNoticeIntervalMs: number;
  /** At most one post per this interval to the mod-log channels, from each instance (MODLOG_INTERVAL_MS). */
  modlogIntervalMs: number;
  /** Raid mode (RAID_MODE_JOINS): more than `joins` joins within `windowMs` in one call locks it down; undefined: off. */
  raidMode?: { joins: number; windowMs: number };
  /** Whether a chat's meeting call is joined when Teams says the meeting started (JOIN_ON_MEETING_START). */
  joinOnMeetingStart: boolean;
  /** Whether a person being removed is told why, privately, just before (NOTIFY_REMOVED). */
  notifyRemoved: boolean;
  /** How long a shutdown waits for requests in flight before it closes the store (SHUTDOWN_GRACE_MS). */
  shutdownGraceMs: number;
  adminUserIds: ReadonlySet<string>;
  /** The meeting roles that moderate (MODERATOR_ROLES): organizer and co-organizer by default, presenters only when listed. */
  moderatorRoles: ReadonlySet<ModeratorRole>;
  /** How long a webhook kick waits for its removal before answering 202 Accepted with its case (WEBHOOK_SYNC_WAIT_MS). */
  webhookSyncWaitMs: number;
  /** Webhook kicks told to a chat within this window after the first go in one message naming each (WEBHOOK_NOTICE_WINDOW_MS; 0: one each). */
  webhookNoticeWindowMs: number;
  /** Standard Webhooks secrets (whsec_…) for POST /api/moderation/kick, each with the calls it may act on; empty = API closed. */
  webhookSecrets: WebhookSecret[];
  database: DatabaseConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Sandbox mode: every vendor endpoint is a local protocol server; nobody real can be removed. */
  sandbox: boolean;
}

/** Turns a DATABASE_URL into a store location, or explains why it cannot (the store drivers decide). */
export function parseDatabaseUrl(value: string, cwd: string): DatabaseConfig | UrlProblem {
  return parseStoreUrl(value, cwd);
}
