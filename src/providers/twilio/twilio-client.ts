import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type ResponseModule from 'twilio/lib/http/response.js';
import { z } from 'zod';
import { callBudgetMs, outOfTime } from '../../app/domain/deadline.js';
import { notSentCode, UpstreamHttpError, UpstreamNoAnswerError, UpstreamNotSentError } from '../retry.js';

type RequestOptions<T> = RequestClient.RequestOptions<T>;
type TwilioResponse<T> = ResponseModule.default<T>;

export const TWILIO_DEFAULT_BASE_URL = 'https://api.twilio.com';
const DEFAULT_TIMEOUT_MS = 15_000;

/** The Twilio SDK client Bouncer uses (the SDK's own type). */
export type TwilioClient = ReturnType<typeof twilio>;

export interface TwilioCredentials {
  accountSid: string;
  authToken?: string;
  apiKey?: { sid: string; secret: string };
  /** Origin of the REST API; anything else than the default is for local protocol servers. */
  baseUrl: string;
  /** Deadline of each request (default 15 s). */
  timeoutMs?: number;
}

// https://www.twilio.com/docs/usage/twilios-response#response-formats-exceptions
const twilioErrorBody = z
  .object({ code: z.number().nullish(), message: z.string().nullish(), more_info: z.string().nullish() })
  .loose();

/**
 * The SDK's own HTTP client with Bouncer's rules: it sends to another origin when one is configured
 * (the SDK always builds https://api.twilio.com URLs), gives every request a deadline, and turns a
 * failure answer into an UpstreamHttpError that carries the status, Twilio's `code` and `more_info`
 * and `Retry-After` (the SDK's own RestException drops the headers), so that the
 * shared retry policy can read them. A request that got no answer (it timed out, or its connection
 * was reset or closed: Twilio may have acted on it) is an UpstreamNoAnswerError; one whose connection
 * could not even be opened (refused, the host's name not resolved, no route) an UpstreamNotSentError.
 */
export class TwilioRequestClient extends twilio.RequestClient {
  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs = DEFAULT_TIMEOUT_MS,
  ) {
    super({ timeout: timeoutMs });
  }

  override async request<TData>(opts: RequestOptions<TData>): Promise<TwilioResponse<TData>> {
    if (this.baseUrl !== TWILIO_DEFAULT_BASE_URL && opts.uri.startsWith(TWILIO_DEFAULT_BASE_URL)) {
      opts.uri = this.baseUrl + opts.uri.slice(TWILIO_DEFAULT_BASE_URL.length);
    }
    const what = `Twilio ${String(opts.method).toUpperCase()} ${redactPath(opts.uri)}`;
    // The command's deadline, when nearer than the request's own.
    const budgetMs = callBudgetMs(this.timeoutMs);
    if (budgetMs <= 0) throw outOfTime('twilio', what);
    opts.timeout = budgetMs;
    let res: TwilioResponse<TData>;
    try {
      res = await super.request<TData>(opts);
    } catch (err) {
      throw noAnswerError(what, budgetMs, err);
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return res;
    const body = twilioErrorBody.safeParse(typeof res.body === 'string' ? parseJson(res.body) : res.body);
    const code = body.success ? (body.data.code ?? undefined) : undefined;
    // Twilio's request id goes to the log line only: people are shown Twilio's error code and link.
    const requestId = header(res.headers, 'twilio-request-id');
    throw new UpstreamHttpError('twilio', `${what} failed: ${res.statusCode}${code === undefined ? '' : ` (${code})`}${requestId ? ` [${requestId}]` : ''}`, {
      status: res.statusCode,
      vendorCode: code === undefined ? undefined : String(code),
      moreInfo: body.success ? (body.data.more_info ?? undefined) : undefined,
      retryAfter: header(res.headers, 'retry-after'),
    });
  }
}

/**
 * Error codes of a connection that was never opened (Node's, which axios passes on): the request
 * did not leave this machine, so Twilio cannot have acted on it.
 */
/** Axios' codes for a request that outlived its timeout (ETIMEDOUT with `clarifyTimeoutError`). */
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT']);

/**
 * What a request that got no answer from the SDK's HTTP client (axios) came to. Anything not known
 * to have stayed here (a timeout, a reset or closed connection, an unknown failure) may have reached
 * Twilio. Axios' error holds the request configuration, credentials included: only its code and
 * message are kept.
 */
function noAnswerError(what: string, budgetMs: number, err: unknown): UpstreamNoAnswerError | UpstreamNotSentError {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const cause = { code, message: typeof e?.message === 'string' ? e.message : undefined };
  const unsent = notSentCode(err);
  if (unsent !== undefined) return new UpstreamNotSentError('twilio', `${what} could not be sent (${unsent})`, cause);
  const timedOut = code !== undefined && TIMEOUT_CODES.has(code);
  return new UpstreamNoAnswerError('twilio', `${what} ${timedOut ? `timed out after ${budgetMs} ms` : `got no answer${code ? ` (${code})` : ''}`}`, cause);
}

/** Builds the SDK client: an API key when configured (preferred), else the account's auth token. */
export function createTwilioClient(c: TwilioCredentials): TwilioClient {
  const httpClient = new TwilioRequestClient(c.baseUrl, c.timeoutMs);
  if (c.apiKey) return twilio(c.apiKey.sid, c.apiKey.secret, { accountSid: c.accountSid, httpClient });
  return twilio(c.accountSid, c.authToken, { httpClient });
}

function header(headers: unknown, name: string): string | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const value = (headers as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** The resource, for logs: no origin or query, and no participant label (a label may be a person's name). */
function redactPath(uri: string): string {
  return uri
    .replace(/^https?:\/\/[^/]+/i, '')
    .split('?')[0]!
    .replace(/\/Participants\/[^/]+?(\.json)?$/, '/Participants/{participant}$1');
}
