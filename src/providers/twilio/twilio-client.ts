import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';

type RequestOptions<T> = RequestClient.RequestOptions<T>;

export const TWILIO_DEFAULT_BASE_URL = 'https://api.twilio.com';

/** The Twilio SDK client Bouncer uses (the SDK's own type). */
export type TwilioClient = ReturnType<typeof twilio>;

export interface TwilioCredentials {
  accountSid: string;
  authToken?: string;
  apiKey?: { sid: string; secret: string };
  /** Origin of the REST API; anything else than the default is for local protocol servers. */
  baseUrl: string;
}

/**
 * The SDK's own HTTP client, sending to another origin when one is configured (the SDK always
 * builds https://api.twilio.com URLs).
 */
class BaseUrlRequestClient extends twilio.RequestClient {
  constructor(private readonly baseUrl: string) {
    super({ timeout: 15_000 });
  }

  override request<TData>(opts: RequestOptions<TData>) {
    if (opts.uri.startsWith(TWILIO_DEFAULT_BASE_URL)) opts.uri = this.baseUrl + opts.uri.slice(TWILIO_DEFAULT_BASE_URL.length);
    return super.request<TData>(opts);
  }
}

/** Builds the SDK client: an API key when configured (preferred), else the account's auth token. */
export function createTwilioClient(c: TwilioCredentials): TwilioClient {
  const httpClient = c.baseUrl === TWILIO_DEFAULT_BASE_URL ? undefined : new BaseUrlRequestClient(c.baseUrl);
  if (c.apiKey) return twilio(c.apiKey.sid, c.apiKey.secret, { accountSid: c.accountSid, httpClient });
  return twilio(c.accountSid, c.authToken, { httpClient });
}
