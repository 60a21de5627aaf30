import { z } from 'zod';
import { PROVIDER_MODULES } from '../providers/index.js';
import type { CallRef, WebhookSecret } from '../app/moderation/requests.js';
import { optionalString, optionalUrl, url } from './env-helpers.js';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/bouncer.sqlite';

/** The deadline of each upstream call when UPSTREAM_TIMEOUT_MS is not set. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 15_000;
/** The meeting roles MODERATOR_ROLES may list. */
export const MODERATOR_ROLE_NAMES = ['organizer', 'coorganizer', 'presenter'] as const;
export type ModeratorRole = (typeof MODERATOR_ROLE_NAMES)[number];
const DEFAULT_MODERATOR_ROLES: readonly ModeratorRole[] = ['organizer', 'coorganizer'];

/** Requests in flight at once to one upstream account when UPSTREAM_CONCURRENCY is not set. */
export const DEFAULT_UPSTREAM_CONCURRENCY = 16;
const UPSTREAM_CONCURRENCY_MESSAGE = 'UPSTREAM_CONCURRENCY must be a whole number from 1 to 256';
const UPSTREAM_TIMEOUT_MESSAGE = 'UPSTREAM_TIMEOUT_MS must be a whole number of milliseconds from 100 to 300000';
const COMMAND_DEADLINE_MESSAGE = 'COMMAND_DEADLINE_MS must be a whole number of milliseconds from 1000 to 600000';
const CHAT_REPLY_WAIT_MESSAGE = 'CHAT_REPLY_WAIT_MS must be a whole number of milliseconds from 500 to 14000';
const SHUTDOWN_GRACE_MESSAGE = 'SHUTDOWN_GRACE_MS must be a whole number of milliseconds from 0 to 120000';
const WEBHOOK_SYNC_WAIT_MESSAGE = 'WEBHOOK_SYNC_WAIT_MS must be a whole number of milliseconds from 100 to 60000';
const BAN_NOTICE_INTERVAL_MESSAGE = 'BAN_NOTICE_INTERVAL_MS must be a whole number of milliseconds from 100 to 3600000';
const MODLOG_INTERVAL_MESSAGE = 'MODLOG_INTERVAL_MS must be a whole number of milliseconds from 100 to 3600000';
const WEBHOOK_NOTICE_WINDOW_MESSAGE = 'WEBHOOK_NOTICE_WINDOW_MS must be a whole number of milliseconds from 0 to 60000';

const RAID_MODE_MESSAGE = 'RAID_MODE_JOINS must be <joins>/<seconds>s, e.g. 10/10s (1 to 10000 joins, 1 to 3600 seconds), or empty (off)';

/** Log levels pino understands. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce
  .number<string>({ message: 'PORT must be a number' })
  .int('PORT must be a whole number')
  .min(0, 'PORT must be between 0 and 65535')
  .max(65535, 'PORT must be between 0 and 65535');

const WEBHOOK_SECRET_MESSAGE = 'WEBHOOK_SECRETS must be whsec_<base64 of at least 16 random bytes>, comma-separated';

/** The keys a webhook secret's scope may name calls by: as a request body's `call` names them. */
function webhookScopeKeys(): Map<string, (value: string) => CallRef> {
  const keys = new Map<string, (value: string) => CallRef>([['conversationId', (conversationId) => ({ kind: 'conversation', conversationId })]]);
  for (const m of PROVIDER_MODULES) {
    if (m.webhookCall) keys.set(m.webhookCall.field, (idOrName) => ({ kind: 'call', provider: m.kind, idOrName }));
  }
  return keys;
}

/**
 * One WEBHOOK_SECRETS entry: `whsec_<base64>`, optionally `@` and the calls it may act on,
 * `|`-separated, each `<key>:<value>` with a key a request's `call` uses (`conversationId`,
 * `teamsCallId`, `twilioConference`), e.g. `whsec_…@twilioConference:CF…|conversationId:19:…`.
 * No `@`: any call.
 */
function parseWebhookSecret(entry: string, ctx: z.RefinementCtx): WebhookSecret {
  const at = entry.indexOf('@');
  const secret = at < 0 ? entry : entry.slice(0, at);
  if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret) || Buffer.from(secret.slice(6), 'base64').length < 16) {
    ctx.addIssue({ code: 'custom', message: WEBHOOK_SECRET_MESSAGE });
    return { secret };
  }
  if (at < 0) return { secret };
  const keys = webhookScopeKeys();
  const scope: CallRef[] = [];
  for (const item of entry.slice(at + 1).split('|')) {
    const colon = item.indexOf(':');
    const key = colon < 0 ? '' : item.slice(0, colon).trim();
    const value = colon < 0 ? '' : item.slice(colon + 1).trim();
    const toCall = keys.get(key);
    if (!toCall || value.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `WEBHOOK_SECRETS: a secret's scope is whsec_…@<key>:<value>|…, the key one of ${[...keys.keys()].join(', ')} (got "${item.slice(0, 40)}")`,
      });
      continue;
    }
    scope.push(toCall(value));
  }
  return { secret, scope };
}

/** Bouncer's own variables that come before the providers' in .env.example: the server and the bot. */
const serverAndBotEnv = z.object({
  PORT: z.string().trim().default('3978').pipe(port),
  HOST: z.string().trim().default('0.0.0.0'),
  PUBLIC_BASE_URL: url('PUBLIC_BASE_URL', { base: true }).optional(),

  // Bot Framework (botbuilder's own names).
  MicrosoftAppId: z.string().trim().default(''),
  MicrosoftAppPassword: z.string().default(''),
  MicrosoftAppTenantId: z.string().trim().default(''),
  MicrosoftAppType: z
    .enum(['MultiTenant', 'SingleTenant', 'UserAssignedMSI'], {
      message: 'MicrosoftAppType must be MultiTenant, SingleTenant or UserAssignedMSI',
    })
    .default('MultiTenant'),
  // Bot Framework endpoints, overridable for sovereign clouds and for local protocol servers.
  ToBotFromChannelOpenIdMetadataUrl: optionalUrl('ToBotFromChannelOpenIdMetadataUrl'),
  ToBotFromChannelTokenIssuer: optionalString,
  ToChannelFromBotLoginUrl: optionalUrl('ToChannelFromBotLoginUrl'),
  ToChannelFromBotOAuthScope: optionalString,
});

/** Bouncer's own variables after the providers': moderation, webhooks, sandbox, storage, logs. */
const moderationAndRuntimeEnv = z.object({
  // How long the first /kick in a meeting waits for a joined call to be established.
  CALL_JOIN_TIMEOUT_MS: z.string().trim().default('15000').pipe(
    z.coerce.number<string>({ message: 'CALL_JOIN_TIMEOUT_MS must be a number' }).int().min(0).max(120000),
  ),

  // The overall deadline of one command: every upstream call, retry wait and join wait made for it.
  COMMAND_DEADLINE_MS: z.string().trim().default('60000').pipe(
    z.coerce
      .number<string>({ message: COMMAND_DEADLINE_MESSAGE })
      .int(COMMAND_DEADLINE_MESSAGE)
      .min(1_000, COMMAND_DEADLINE_MESSAGE)
      .max(600_000, COMMAND_DEADLINE_MESSAGE),
  ),

  // How long a chat turn waits for a command before it answers "working on it" and follows up
  // (Teams gives a bot about 15 s to answer a message).
  CHAT_REPLY_WAIT_MS: z.string().trim().default('8000').pipe(
    z.coerce
      .number<string>({ message: CHAT_REPLY_WAIT_MESSAGE })
      .int(CHAT_REPLY_WAIT_MESSAGE)
      .min(500, CHAT_REPLY_WAIT_MESSAGE)
      .max(14_000, CHAT_REPLY_WAIT_MESSAGE),
  ),

  // After telling a chat at once that a banned person was removed, Bouncer sums up further
  // removals in that chat at most once per this interval (a raid does not flood the chat).
  BAN_NOTICE_INTERVAL_MS: z.string().trim().default('10000').pipe(
    z.coerce
      .number<string>({ message: BAN_NOTICE_INTERVAL_MESSAGE })
      .int(BAN_NOTICE_INTERVAL_MESSAGE)
      .min(100, BAN_NOTICE_INTERVAL_MESSAGE)
      .max(3_600_000, BAN_NOTICE_INTERVAL_MESSAGE),
  ),

  // At most one post per this interval to the mod-log channels (/modlog here), from each instance:
  // the cases since the last post are coalesced into it (a raid does not flood the channel, and
  // Teams does not throttle the bot).
  MODLOG_INTERVAL_MS: z.string().trim().default('5000').pipe(
    z.coerce
      .number<string>({ message: MODLOG_INTERVAL_MESSAGE })
      .int(MODLOG_INTERVAL_MESSAGE)
      .min(100, MODLOG_INTERVAL_MESSAGE)
      .max(3_600_000, MODLOG_INTERVAL_MESSAGE),
  ),
  // Raid mode: more joins than N within W seconds in one call locks it down. Off when empty.
  RAID_MODE_JOINS: z
    .string()
    .trim()
    .default('')
    .transform((text, ctx): { joins: number; windowMs: number } | undefined => {
      if (text === '' || /^off$/i.test(text)) return undefined;
      const m = /^(\d{1,5})\s*\/\s*(\d{1,4})\s*s$/i.exec(text);
      const joins = m ? Number(m[1]) : NaN;
      const seconds = m ? Number(m[2]) : NaN;
      if (!m || joins < 1 || joins > 10_000 || seconds < 1 || seconds > 3600) {
        ctx.addIssue({ code: 'custom', message: RAID_MODE_MESSAGE });
        return z.NEVER;
      }
      return { joins, windowMs: seconds * 1000 };
    }),

  // Join a chat's meeting call when Teams says the meeting started, so the first kick is warm.
  JOIN_ON_MEETING_START: z
    .string()
    .trim()
    .default('true')
    .pipe(z.stringbool({ error: 'JOIN_ON_MEETING_START must be true or false' })),

  // The meeting roles that moderate, besides admins and the people an organizer names
  // (/moderators add). Presenters only when listed: Teams' default meeting option "Who can present:
  // Everyone" makes every attendee a presenter.
  MODERATOR_ROLES: z
    .string()
    .trim()
    .default(DEFAULT_MODERATOR_ROLES.join(','))
    .transform((raw, ctx) => {
      const roles = raw.split(',').map((r) => r.trim().toLowerCase()).filter(Boolean);
      const unknown = roles.filter((r) => !(MODERATOR_ROLE_NAMES as readonly string[]).includes(r));
      if (unknown.length > 0) {
        ctx.addIssue({ code: 'custom', message: `MODERATOR_ROLES: unknown role ${unknown.map((r) => `"${r}"`).join(', ')}; use any of ${MODERATOR_ROLE_NAMES.join(', ')}` });
        return z.NEVER;
      }
      return new Set(roles as ModeratorRole[]) as ReadonlySet<ModeratorRole>;
    }),

  // Tell a person being removed why, privately, just before (Teams: a targeted meeting notification;
  // Twilio: an announcement to that caller). The removal happens whether or not the notice arrives.
  NOTIFY_REMOVED: z
    .string()
    .trim()
    .default('true')
    .pipe(z.stringbool({ error: 'NOTIFY_REMOVED must be true or false' })),

  // How long a shutdown waits for requests in flight before it closes the store and exits.
  SHUTDOWN_GRACE_MS: z.string().trim().default('10000').pipe(
    z.coerce
      .number<string>({ message: SHUTDOWN_GRACE_MESSAGE })
      .int(SHUTDOWN_GRACE_MESSAGE)
      .min(0, SHUTDOWN_GRACE_MESSAGE)
      .max(120_000, SHUTDOWN_GRACE_MESSAGE),
  ),

  // The deadline of each call to Graph, Entra (tokens), the calls signing keys and Twilio.
  UPSTREAM_TIMEOUT_MS: z
    .string()
    .trim()
    .default(String(DEFAULT_UPSTREAM_TIMEOUT_MS))
    .pipe(
      z.coerce
        .number<string>({ message: UPSTREAM_TIMEOUT_MESSAGE })
        .int(UPSTREAM_TIMEOUT_MESSAGE)
        .min(100, UPSTREAM_TIMEOUT_MESSAGE)
        .max(300_000, UPSTREAM_TIMEOUT_MESSAGE),
    ),

  // Requests in flight at once to one upstream account (Graph for the tenant and app, Twilio for the
  // account); the rest queue, oldest first, and a Retry-After pauses them all.
  UPSTREAM_CONCURRENCY: z
    .string()
    .trim()
    .default(String(DEFAULT_UPSTREAM_CONCURRENCY))
    .pipe(
      z.coerce
        .number<string>({ message: UPSTREAM_CONCURRENCY_MESSAGE })
        .int(UPSTREAM_CONCURRENCY_MESSAGE)
        .min(1, UPSTREAM_CONCURRENCY_MESSAGE)
        .max(256, UPSTREAM_CONCURRENCY_MESSAGE),
    ),

  // How long POST /api/moderation/kick waits for a removal before it answers 202 Accepted with the
  // case (GET /api/moderation/cases/{caseId} then follows it) and finishes in the background.
  WEBHOOK_SYNC_WAIT_MS: z.string().trim().default('5000').pipe(
    z.coerce
      .number<string>({ message: WEBHOOK_SYNC_WAIT_MESSAGE })
      .int(WEBHOOK_SYNC_WAIT_MESSAGE)
      .min(100, WEBHOOK_SYNC_WAIT_MESSAGE)
      .max(60_000, WEBHOOK_SYNC_WAIT_MESSAGE),
  ),

  // The chat bound to a call hears of a webhook kick at once; kicks that follow within this window
  // are told together, in one message naming each of them (0: one message per kick).
  WEBHOOK_NOTICE_WINDOW_MS: z.string().trim().default('2000').pipe(
    z.coerce
      .number<string>({ message: WEBHOOK_NOTICE_WINDOW_MESSAGE })
      .int(WEBHOOK_NOTICE_WINDOW_MESSAGE)
      .min(0, WEBHOOK_NOTICE_WINDOW_MESSAGE)
      .max(60_000, WEBHOOK_NOTICE_WINDOW_MESSAGE),
  ),

  // Webhook-triggered moderation (Standard Webhooks): whsec_ secrets, comma-separated for rotation,
  // each optionally scoped to the calls it may act on: whsec_…@conversationId:19:…|twilioConference:CF…
  WEBHOOK_SECRETS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(z.array(z.string().transform(parseWebhookSecret))),

  ADMIN_USER_IDS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim().toLowerCase())
        .filter((s) => s.length > 0),
    )
    .pipe(
      z.array(
        z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, {
          message: 'ADMIN_USER_IDS must be Entra object ids (GUIDs), comma-separated',
        }),
      ),
    ),

  // Sandbox mode (npm run playground): every vendor endpoint must be on this machine.
  BOUNCER_SANDBOX: z
    .string()
    .trim()
    .default('false')
    .pipe(z.stringbool({ error: 'BOUNCER_SANDBOX must be true or false' })),

  DATABASE_URL: z.string().trim().default(DEFAULT_DATABASE_URL),
  LOG_LEVEL: z.enum(LOG_LEVELS, { message: `LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
});

/** Bouncer's own variables (every provider module brings its own slice). */
export const coreEnvSchema = serverAndBotEnv.extend(moderationAndRuntimeEnv.shape);

/** Every provider's variables, in list order (each module's `env`). */
const providerShape: z.ZodRawShape = Object.fromEntries(PROVIDER_MODULES.flatMap((m) => Object.entries(m.env.shape)));

/**
 * Every environment variable Bouncer reads, with its default: its own and every provider module's
 * slice. `.env.example` documents each one; `test/unit/config.test.ts` checks that the two lists agree.
 */
export const envSchema = z.object({ ...serverAndBotEnv.shape, ...providerShape, ...moderationAndRuntimeEnv.shape });

export type RawEnv = z.input<typeof envSchema>;
/** Bouncer's own validated variables (a provider reads its slice itself). */
export type ParsedEnv = z.output<typeof coreEnvSchema>;
