import { z } from 'zod';
import { PROVIDER_MODULES } from '../providers/index.js';
import { optionalString, optionalUrl, url } from './env-helpers.js';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/bouncer.sqlite';

/** The deadline of each upstream call when UPSTREAM_TIMEOUT_MS is not set. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 15_000;
const UPSTREAM_TIMEOUT_MESSAGE = 'UPSTREAM_TIMEOUT_MS must be a whole number of milliseconds from 100 to 300000';

/** Log levels pino understands. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const port = z.coerce
  .number<string>({ message: 'PORT must be a number' })
  .int('PORT must be a whole number')
  .min(0, 'PORT must be between 0 and 65535')
  .max(65535, 'PORT must be between 0 and 65535');

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

  // Webhook-triggered moderation (Standard Webhooks): whsec_ secrets, comma-separated for rotation.
  WEBHOOK_SECRETS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    )
    .pipe(
      z.array(
        z.string().refine((s) => /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(s) && Buffer.from(s.slice(6), 'base64').length >= 16, {
          message: 'WEBHOOK_SECRETS must be whsec_<base64 of at least 16 random bytes>, comma-separated',
        }),
      ),
    ),

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
