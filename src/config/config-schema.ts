import { z } from 'zod';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/bouncer.sqlite';

/** Log levels pino understands. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v));

const url = (name: string) =>
  z
    .string()
    .trim()
    .refine((v) => URL.canParse(v) && /^https?:$/.test(new URL(v).protocol), {
      message: `${name} must be an absolute http(s) URL`,
    })
    .transform((v) => v.replace(/\/+$/, ''));

const port = z.coerce
  .number<string>({ message: 'PORT must be a number' })
  .int('PORT must be a whole number')
  .min(0, 'PORT must be between 0 and 65535')
  .max(65535, 'PORT must be between 0 and 65535');

/**
 * Every environment variable Bouncer reads, with its default. `.env.example` documents each one;
 * `test/unit/config.test.ts` checks that the two lists agree.
 */
export const envSchema = z.object({
  PORT: z.string().trim().default('3978').pipe(port),
  HOST: z.string().trim().default('0.0.0.0'),
  PUBLIC_BASE_URL: url('PUBLIC_BASE_URL').optional(),

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
  ToBotFromChannelOpenIdMetadataUrl: optionalString,
  ToBotFromChannelTokenIssuer: optionalString,
  ToChannelFromBotLoginUrl: optionalString,
  ToChannelFromBotOAuthScope: optionalString,

  // Microsoft Graph (application permissions); default to the bot's app registration.
  GRAPH_TENANT_ID: optionalString,
  GRAPH_CLIENT_ID: optionalString,
  GRAPH_CLIENT_SECRET: optionalString,
  GRAPH_BASE_URL: url('GRAPH_BASE_URL').default('https://graph.microsoft.com/v1.0'),
  AZURE_AUTHORITY_HOST: url('AZURE_AUTHORITY_HOST').default('https://login.microsoftonline.com'),

  // Graph call notifications (JWT-signed by the calling platform).
  CALLS_OPENID_METADATA_URL: url('CALLS_OPENID_METADATA_URL').default(
    'https://api.aps.skype.com/v1/.well-known/OpenIdConfiguration',
  ),
  CALLS_TOKEN_ISSUER: z.string().trim().min(1).default('https://api.botframework.com'),
  CALL_JOIN_TIMEOUT_MS: z.string().trim().default('15000').pipe(
    z.coerce.number<string>({ message: 'CALL_JOIN_TIMEOUT_MS must be a number' }).int().min(0).max(120000),
  ),

  // Twilio phone conferences: an auth token, or an API key (the auth token still verifies callbacks).
  TWILIO_ACCOUNT_SID: z.string().trim().regex(/^AC[0-9a-fA-F]{32}$/, { message: 'TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits' }).optional(),
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_API_KEY_SID: z.string().trim().regex(/^SK[0-9a-fA-F]{32}$/, { message: 'TWILIO_API_KEY_SID must look like SK followed by 32 hex digits' }).optional(),
  TWILIO_API_KEY_SECRET: optionalString,
  TWILIO_API_BASE_URL: url('TWILIO_API_BASE_URL').default('https://api.twilio.com'),

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

export type RawEnv = z.input<typeof envSchema>;
export type ParsedEnv = z.output<typeof envSchema>;
