import type { AccessToken, TokenCredential } from '@azure/identity';
import { UpstreamError } from '../../core/errors.js';
import type { Logger } from '../../core/ports.js';

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 (no trailing slash). */
  baseUrl: string;
  credential: TokenCredential;
  logger: Logger;
  /** Token scope; Graph's own even when baseUrl points at a local server. */
  scope?: string;
  fetch?: typeof fetch;
  /** Retries after a 429/503/504, each honouring Retry-After. */
  maxRetries?: number;
  /** Longest single wait; a Retry-After beyond it is not waited for and the call fails as retryable. */
  maxRetryDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface GraphResponse {
  status: number;
  body: unknown;
  requestId?: string;
}

const RETRYABLE = new Set([429, 503, 504]);
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * A thin Graph REST client: app-only token (cached until close to expiry), JSON bodies, bounded
 * retries honouring Retry-After, and failures that name Graph's request-id.
 */
export class GraphClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxRetries: number;
  private readonly maxRetryDelayMs: number;
  private readonly scope: string;
  private token?: AccessToken;
  private tokenPromise?: Promise<AccessToken>;

  constructor(private readonly options: GraphClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.maxRetries = options.maxRetries ?? 3;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.scope = options.scope ?? 'https://graph.microsoft.com/.default';
  }

  /** Gets a token ahead of the first request, so the first kick does not pay for it. */
  async warmUp(): Promise<void> {
    await this.accessToken();
  }

  /**
   * Sends a request. 2xx and any status in `accept` resolve; anything else (after retries) throws
   * UpstreamError. `path` is relative to baseUrl, or an absolute URL on the same origin (nextLink).
   */
  async request(method: string, path: string, init: { body?: unknown; accept?: number[] } = {}): Promise<GraphResponse> {
    const url = this.resolve(path);
    for (let attempt = 0; ; attempt++) {
      const token = await this.accessToken();
      let res: Response;
      try {
        res = await this.fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
      } catch (err) {
        throw new UpstreamError('graph', `Graph ${method} ${redactPath(path)} could not be sent`, {
          retryable: true,
          cause: err,
        });
      }
      const requestId = res.headers.get('request-id') ?? res.headers.get('client-request-id') ?? undefined;
      const body = await readBody(res);
      if (res.ok || init.accept?.includes(res.status)) return { status: res.status, body, requestId };

      if (res.status === 401) this.token = undefined;
      const delay = retryDelay(res.headers.get('retry-after'), attempt);
      if (RETRYABLE.has(res.status) && attempt < this.maxRetries && delay <= this.maxRetryDelayMs) {
        this.options.logger.warn({ status: res.status, requestId, attempt, delayMs: delay }, 'Graph asked to retry');
        await this.sleep(delay);
        continue;
      }
      const code = graphErrorCode(body);
      throw new UpstreamError(
        'graph',
        `Graph ${method} ${redactPath(path)} failed: ${res.status}${code ? ` ${code}` : ''}`,
        { status: res.status, requestId, retryable: RETRYABLE.has(res.status) || res.status >= 500 },
      );
    }
  }

  private resolve(path: string): string {
    if (!/^https?:\/\//i.test(path)) return `${this.options.baseUrl}${path.startsWith('/') ? '' : '/'}${path}`;
    // Never send the token to another host than Graph's.
    if (new URL(path).origin !== new URL(this.options.baseUrl).origin) {
      throw new UpstreamError('graph', 'Graph returned a link to another host; not followed');
    }
    return path;
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS > Date.now()) return this.token.token;
    this.tokenPromise ??= this.options.credential
      .getToken(this.scope)
      .then((t) => {
        if (!t) throw new Error('no token returned');
        return t;
      })
      .finally(() => {
        this.tokenPromise = undefined;
      });
    try {
      this.token = await this.tokenPromise;
    } catch (err) {
      throw new UpstreamError('entra', 'could not get a Microsoft Graph token', { retryable: true, cause: err });
    }
    return this.token.token;
  }
}

async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function graphErrorCode(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error?: { code?: unknown } }).error;
    if (typeof error?.code === 'string') return error.code;
  }
  return undefined;
}

/** Retry-After in seconds or as an HTTP date; otherwise exponential backoff from 500 ms. */
export function retryDelay(retryAfter: string | null, attempt: number, now = Date.now()): number {
  const value = retryAfter?.trim() ?? '';
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  // IMF-fixdate, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" (RFC 9110); Date.parse alone accepts nonsense.
  if (/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(value)) {
    const date = Date.parse(value);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return 500 * 2 ** attempt;
}

/** Ids in paths are not secrets, but logs need only the shape. */
function redactPath(path: string): string {
  return path.replace(/^https?:\/\/[^/]+/i, '').split('?')[0]!;
}
