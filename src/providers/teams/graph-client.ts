import type { AccessToken, TokenCredential } from '@azure/identity';
import { awaitWithin, callBudgetMs, outOfTime } from '../../app/domain/deadline.js';
import { UpstreamError, type UpstreamHint } from '../../app/domain/errors.js';
import type { Logger } from '../../app/ports/runtime.js';
import { mayHaveActed, notSentCode, RetryScheduler, UpstreamHttpError, UpstreamNoAnswerError, UpstreamNotSentError, type RetryOptions } from '../retry.js';
import { keepAliveHttp, type HttpFetch, type HttpFetchResponse } from '../../http/outbound-http.js';

export interface GraphClientOptions {
  /** e.g. https://graph.microsoft.com/v1.0 (no trailing slash). */
  baseUrl: string;
  credential: TokenCredential;
  logger: Logger;
  /** Token scope; Graph's own even when baseUrl points at a local server. */
  scope?: string;
  /** The HTTP client (tests may pass `fetch`); by default keepAliveHttp(): keep-alive node:https. */
  fetch?: HttpFetch;
  /**
   * Deadline of each request, answer body included, and of each token request (default 15 s;
   * UPSTREAM_TIMEOUT_MS). A timeout is a retryable outage.
   */
  timeoutMs?: number;
  /** How 429 and 5xx answers are retried (src/providers/retry.ts), or the scheduler to share. */
  retry?: RetryOptions | RetryScheduler;
}

export interface GraphRequestInit {
  body?: unknown;
  /** Failure statuses that resolve (e.g. 404 on a removal: already gone). */
  accept?: number[];
  /** What a failure status most likely means for this request, for the administrator (see UpstreamHint). */
  hints?: Readonly<Partial<Record<number, UpstreamHint>>>;
  /**
   * The request means the same however often it is sent (a DELETE): one that timed out or lost its
   * connection is sent again, through the scheduler and within the command's deadline.
   */
  idempotent?: boolean;
}

export interface GraphResponse {
  status: number;
  body: unknown;
  requestId?: string;
  /**
   * This answer came to a retry after an attempt Graph may have acted on (it got no answer, or a
   * 5xx): a 404 now may be the earlier attempt's doing.
   */
  afterUncertainAttempt?: boolean;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/**
 * A thin Graph REST client: app-only token (cached until close to expiry), JSON bodies, a deadline
 * on every request, 429/5xx retried by the shared policy honouring Retry-After, and failures that
 * name Graph's request-id and error code.
 */
export class GraphClient {
  private readonly fetch: HttpFetch;
  /** Whether `fetch` is keepAliveHttp(), which takes the deadline as `timeoutMs`. */
  private readonly ownHttp: boolean;
  private readonly retry: RetryScheduler;
  private readonly timeoutMs: number;
  private readonly scope: string;
  private token?: AccessToken;
  private tokenPromise?: Promise<AccessToken>;

  constructor(private readonly options: GraphClientOptions) {
    this.fetch = options.fetch ?? keepAliveHttp();
    this.ownHttp = options.fetch === undefined;
    this.retry =
      options.retry instanceof RetryScheduler ? options.retry : new RetryScheduler('graph', { logger: options.logger, ...options.retry });
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.scope = options.scope ?? 'https://graph.microsoft.com/.default';
  }

  /** Gets a token ahead of the first request, so the first kick does not pay for it. */
  async warmUp(): Promise<void> {
    await this.accessToken();
  }

  /**
   * Sends a request. 2xx and any status in `accept` resolve; anything else (after retries) throws
   * UpstreamError, carrying the caller's `hints` entry for its status, if any. `path` is relative
   * to baseUrl, or an absolute URL on the same origin (nextLink).
   */
  async request(method: string, path: string, init: GraphRequestInit = {}): Promise<GraphResponse> {
    const url = this.resolve(path);
    const what = `Graph ${method} ${redactPath(path)}`;
    let uncertain = false;
    return this.retry.run(
      what,
      async () => {
        try {
          const res = await this.send(method, url, what, init);
          return uncertain ? { ...res, afterUncertainAttempt: true } : res;
        } catch (err) {
          // Graph may have acted on an attempt that got no answer, or a server error.
          if (mayHaveActed(err)) uncertain = true;
          throw err;
        }
      },
      { idempotent: init.idempotent },
    );
  }

  private async send(method: string, url: string, what: string, init: GraphRequestInit): Promise<GraphResponse> {
    const token = await this.accessToken();
    // The command's deadline, when nearer than the call's own.
    const budgetMs = callBudgetMs(this.timeoutMs);
    if (budgetMs <= 0) throw outOfTime('graph', what);
    let res: HttpFetchResponse;
    let body: unknown;
    try {
      res = await this.fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        // The deadline covers the answer's body too: a timer in keepAliveHttp(), a signal for `fetch`.
        ...(this.ownHttp ? { timeoutMs: budgetMs } : { signal: AbortSignal.timeout(budgetMs) }),
      });
      body = await readBody(res);
    } catch (err) {
      // Never sent (the connection could not be opened): Graph cannot have acted; sent again whatever it is.
      const unsent = notSentCode(err);
      if (unsent !== undefined) throw new UpstreamNotSentError('graph', `${what} could not be sent (${unsent})`, err);
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      // No answer: timed out, or the connection was reset or closed (Graph may have acted).
      throw new UpstreamNoAnswerError('graph', `${what} ${timedOut ? `timed out after ${budgetMs} ms` : 'got no answer (the connection was closed)'}`, err);
    }
    const requestId = res.headers.get('request-id') ?? res.headers.get('client-request-id') ?? undefined;
    if (res.ok || init.accept?.includes(res.status)) return { status: res.status, body, requestId };

    if (res.status === 401) this.token = undefined;
    const code = graphErrorCode(body);
    throw new UpstreamHttpError('graph', `${what} failed: ${res.status}${code ? ` ${code}` : ''}`, {
      status: res.status,
      requestId,
      vendorCode: code,
      retryAfter: res.headers.get('retry-after') ?? undefined,
      hint: init.hints?.[res.status],
    });
  }

  private resolve(path: string): string {
    if (!/^https?:\/\//i.test(path)) return `${this.options.baseUrl}${path.startsWith('/') ? '' : '/'}${path}`;
    // Never send the token to another host than Graph's.
    if (new URL(path).origin !== new URL(this.options.baseUrl).origin) {
      throw new UpstreamError('graph', 'Graph returned a link to another host; not followed', { code: 'UPSTREAM_INVALID_RESPONSE' });
    }
    return path;
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.expiresOnTimestamp - TOKEN_REFRESH_MARGIN_MS > Date.now()) return this.token.token;
    // One token request at a time; every request waiting for a token shares it.
    let pending = this.tokenPromise;
    if (!pending) {
      const started = this.requestToken();
      const forget = () => {
        if (this.tokenPromise === started) this.tokenPromise = undefined;
      };
      started.then(forget, forget);
      this.tokenPromise = pending = started;
    }
    // The shared request keeps its own deadline; this command waits for it only as long as it may.
    this.token = await awaitWithin(pending, callBudgetMs(this.timeoutMs), 'entra', 'the Microsoft Graph token request');
    return this.token.token;
  }

  /**
   * Asks the credential for a token within the deadline. MSAL does not pass an abort signal on to
   * its token requests, so the deadline is a race: a token endpoint that never answers fails here
   * as a retryable outage, and the next request asks again.
   */
  private async requestToken(): Promise<AccessToken> {
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        abort.abort();
        reject(new UpstreamError('entra', `the Microsoft Graph token request timed out after ${this.timeoutMs} ms`, { retryable: true }));
      }, this.timeoutMs);
    });
    let token: AccessToken | null;
    try {
      token = await Promise.race([this.options.credential.getToken(this.scope, { abortSignal: abort.signal }), deadline]);
    } catch (err) {
      if (err instanceof UpstreamError) throw err;
      throw new UpstreamError('entra', 'could not get a Microsoft Graph token', { retryable: true, cause: err });
    } finally {
      clearTimeout(timer);
    }
    if (!token) throw new UpstreamError('entra', 'no token returned', { code: 'UPSTREAM_INVALID_RESPONSE', retryable: true });
    return token;
  }
}

async function readBody(res: HttpFetchResponse): Promise<unknown> {
  const text = await res.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// https://learn.microsoft.com/graph/errors (error.code)
function graphErrorCode(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error?: { code?: unknown } }).error;
    if (typeof error?.code === 'string') return error.code;
  }
  return undefined;
}

/** Ids in paths are not secrets, but logs need only the shape. */
function redactPath(path: string): string {
  return path.replace(/^https?:\/\/[^/]+/i, '').split('?')[0]!;
}
