import { z } from 'zod';
import { ACCOUNT_SID_PATTERN, API_KEY_SID_PATTERN } from '../../app/domain/ids.js';
import { optionalString, readSlice, url } from '../../config/env-helpers.js';
import type { ProviderConfigResult, ProviderEnvInput } from '../provider-module.js';

/**
 * Twilio's environment variables (documented in .env.example): an account and its auth token, or
 * an API key (the auth token still verifies callbacks).
 */
export const twilioEnv = z.object({
  TWILIO_ACCOUNT_SID: z.string().trim().regex(ACCOUNT_SID_PATTERN, { message: 'TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits' }).optional(),
  TWILIO_AUTH_TOKEN: optionalString,
  TWILIO_API_KEY_SID: z.string().trim().regex(API_KEY_SID_PATTERN, { message: 'TWILIO_API_KEY_SID must look like SK followed by 32 hex digits' }).optional(),
  TWILIO_API_KEY_SECRET: optionalString,
  // An origin: the client swaps it for the SDK's own (https://api.twilio.com), keeping the SDK's paths.
  // Which chats each conference is for: {"<friendly name or ConferenceSid>": "<chat id>" | ["<chat id>", …]}.
  // Presenters and organizers may /bind a conference only in its chats; admins anywhere.
  TWILIO_CONFERENCE_CHATS: z
    .string()
    .trim()
    .default('')
    .transform((raw, ctx) => {
      if (raw === '') return [];
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        ctx.addIssue({ code: 'custom', message: CONFERENCE_CHATS_MESSAGE });
        return z.NEVER;
      }
      const shape = conferenceChatsShape.safeParse(parsed);
      if (!shape.success) {
        ctx.addIssue({ code: 'custom', message: CONFERENCE_CHATS_MESSAGE });
        return z.NEVER;
      }
      return Object.entries(shape.data).map(([conference, chats]) => ({ conference, conversationIds: typeof chats === 'string' ? [chats] : chats }));
    }),
  TWILIO_API_BASE_URL: url('TWILIO_API_BASE_URL', { https: 'off-loopback', why: 'Twilio credentials are sent to it', originOnly: true }).default(
    'https://api.twilio.com',
  ),
});

const CONFERENCE_CHATS_MESSAGE =
  'TWILIO_CONFERENCE_CHATS must be a JSON object from a conference (friendly name or ConferenceSid) to a chat id or a list of chat ids, e.g. {"Support bridge":"19:…@thread.v2"}';
const chatId = z.string().trim().min(1).max(512);
const conferenceChatsShape = z.record(z.string().trim().min(1).max(256), z.union([chatId, z.array(chatId).min(1).max(100)]));

/** A conference an administrator configured for some chats (TWILIO_CONFERENCE_CHATS). */
export interface ConferenceChats {
  /** A friendly name (exact) or a ConferenceSid. */
  conference: string;
  conversationIds: string[];
}

/** The Twilio account Bouncer acts for. */
export interface TwilioAccount {
  accountSid: string;
  /** Verifies conference callbacks; also authenticates the API when no API key is set. */
  authToken?: string;
  apiKey?: { sid: string; secret: string };
}

/** Twilio phone conferences. */
export interface TwilioConfig {
  /** Present only when an account and a way to authenticate are configured. */
  account?: TwilioAccount;
  /** Origin of the REST API (https://api.twilio.com; a local protocol server in the sandbox). */
  baseUrl: string;
  /** The deadline of each REST request (UPSTREAM_TIMEOUT_MS). */
  timeoutMs: number;
  /** REST requests in flight at once for the account (UPSTREAM_CONCURRENCY). */
  concurrency: number;
  /** The chats each configured conference is for (TWILIO_CONFERENCE_CHATS). */
  conferenceChats: ConferenceChats[];
}

/** Twilio's part of loadConfig: the account's credentials, their notice and sandbox endpoint. */
export function configureTwilio(input: ProviderEnvInput): ProviderConfigResult<TwilioConfig> {
  const { given } = input;
  const problems: string[] = [];
  const notices: string[] = [];

  // Checks across variables run on the raw values, so that they are listed with every other problem.
  const sid = given.TWILIO_ACCOUNT_SID?.trim();
  const token = given.TWILIO_AUTH_TOKEN?.trim();
  const keySid = given.TWILIO_API_KEY_SID?.trim();
  const keySecret = given.TWILIO_API_KEY_SECRET?.trim();
  if ((token || keySid || keySecret) && !sid) problems.push('TWILIO_ACCOUNT_SID is required when other TWILIO_ credentials are set');
  if (!!keySid !== !!keySecret) problems.push('TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET go together');
  if (sid && !token && !(keySid && keySecret)) {
    problems.push('TWILIO_ACCOUNT_SID needs TWILIO_AUTH_TOKEN (or TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET)');
  }

  const e = readSlice(twilioEnv, given);
  if (!e) return { problems, notices, endpoints: [] };
  if (e.TWILIO_ACCOUNT_SID && !e.TWILIO_AUTH_TOKEN) {
    notices.push(
      'TWILIO_AUTH_TOKEN is not set: Twilio conference callbacks cannot be verified and are refused, so kicks fall back to listing participants; ' +
        'and announcements (/warn, the notice before a removal) cannot be served to Twilio, so callers get none.',
    );
  }
  return {
    problems,
    notices,
    endpoints: [{ name: 'TWILIO_API_BASE_URL', value: e.TWILIO_API_BASE_URL, inUse: !!e.TWILIO_ACCOUNT_SID }],
    config:
      problems.length > 0
        ? undefined
        : {
            account: e.TWILIO_ACCOUNT_SID
              ? {
                  accountSid: e.TWILIO_ACCOUNT_SID,
                  authToken: e.TWILIO_AUTH_TOKEN,
                  apiKey: e.TWILIO_API_KEY_SID && e.TWILIO_API_KEY_SECRET ? { sid: e.TWILIO_API_KEY_SID, secret: e.TWILIO_API_KEY_SECRET } : undefined,
                }
              : undefined,
            baseUrl: e.TWILIO_API_BASE_URL,
            timeoutMs: input.upstreamTimeoutMs,
            concurrency: input.upstreamConcurrency,
            conferenceChats: e.TWILIO_CONFERENCE_CHATS,
          },
  };
}
