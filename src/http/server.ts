import restify, { type Request, type Response, type Server } from 'restify';
import { asCodedError } from '../app/domain/errors.js';
import type { Logger } from '../app/ports/runtime.js';
import { httpProblem, PROBLEM_CONTENT_TYPE, problemForStatus } from './problem.js';
import type { HttpAnswer, HttpInput, RawRoute, Route } from './route.js';

export interface HttpServerDeps {
  /** Every route: the channels' and the providers'. */
  routes: readonly Route[];
  /** Liveness of what /healthz vouches for (the store); throws when unavailable. */
  ping(): Promise<void>;
  /** Resolves once the store's writes so far are on disk: awaited before a POST is answered. */
  durable(): Promise<void>;
  logger: Logger;
  /** What /healthz reports as configured (booleans only, never values). */
  configured: Record<string, boolean>;
  version: string;
  /** Counts /healthz reports (e.g. mod-log posts that failed): numbers only, never values. */
  counters?: () => Record<string, Record<string, number>>;
}

/**
 * The restify server: routes registered from the channels and providers, /healthz, one access
 * line per request, and one error shape (problem+json, never an internal message).
 */
export function createHttpServer(deps: HttpServerDeps): Server {
  const server = restify.createServer({ name: 'bouncer', handleUncaughtExceptions: false });
  server.use(restify.plugins.queryParser({ mapParams: false }));
  // No route takes a compressed body. Restify's body reader would inflate one past maxBodySize
  // (it counts the compressed bytes), and a corrupt stream throws from its gunzip, which has no
  // error listener: one request would stop the process.
  server.use((req: Request, res: Response, next: (stop?: false) => void) => {
    if (req.headers['content-encoding'] === undefined || req.method === 'GET' || req.method === 'HEAD') return next();
    sendProblem(res, 415);
    return next(false);
  });

  for (const route of deps.routes) {
    if (route.kind === 'native') {
      server.post(route.path, restify.plugins.bodyParser({ maxBodySize: route.maxBodyBytes, mapParams: false, rejectUnknown: true }), route.handle);
    } else if (route.method === 'GET') {
      server.get(route.path, rawHandler(route, deps.logger));
    } else {
      // Read, not parsed: the route authenticates the raw body before it looks at it. A route
      // that can tell from the headers alone admits the request first.
      const read = rawBodyReader(route.maxBodyBytes);
      const handler = rawHandler(route, deps.logger, deps.durable);
      if (route.admit) server.post(route.path, admitter(route.path, route.admit.bind(route), deps.logger), read, handler);
      else server.post(route.path, read, handler);
    }
  }

  server.get('/healthz', async (_req: Request, res: Response) => {
    try {
      await deps.ping();
      res.send(200, { status: 'ok', version: deps.version, configured: deps.configured, ...(deps.counters ? { counters: deps.counters() } : {}) });
    } catch (err) {
      deps.logger.error({ err }, 'health check failed');
      res.send(503, { status: 'unavailable', version: deps.version });
    }
  });

  // One access line per request: method, route, status, time. Never headers or bodies.
  server.on('after', (req: Request, res: Response) => {
    const line = { method: req.method, path: req.path(), status: res.statusCode, ms: Date.now() - req.time() };
    if (req.path() === '/healthz') deps.logger.debug(line, 'request');
    else deps.logger.info(line, 'request');
  });

  server.on('restifyError', (req: Request, res: Response, err: unknown, callback: () => void) => {
    // Whatever restify raised (bad JSON, too large, no route, wrong method) or a native route threw:
    // logged, and answered here as problem+json with its status and a generic title, never its
    // message. Sent raw, so neither restify's JSON formatter nor its error's toJSON chooses the
    // content type or the body; restify then sees the response as sent.
    const raised = (err as { statusCode?: unknown } | null | undefined)?.statusCode;
    const status = typeof raised === 'number' && Number.isInteger(raised) && raised >= 400 && raised <= 599 ? raised : 500;
    if (status >= 500) deps.logger.error({ err, path: req.path() }, 'request failed');
    if (!res.headersSent) sendProblem(res, status);
    return callback();
  });

  return server;
}

/**
 * Reads the body as the bytes received, up to `maxBytes` (more gets 413 once the rest is drained).
 * Not restify's bodyReader: it decodes JSON, form and text bodies as UTF-8, so invalid bytes would
 * reach a signature check already replaced, and the route would not verify what was sent.
 */
function rawBodyReader(maxBytes: number) {
  return (req: Request, res: Response, next: (stop?: false) => void): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    let finished = false;
    const finish = (status?: number) => {
      if (finished) return;
      finished = true;
      if (status === undefined) {
        req.body = Buffer.concat(chunks);
        return next();
      }
      if (!res.headersSent) sendProblem(res, status);
      return next(false);
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    req.once('end', () => finish(size > maxBytes ? 413 : undefined));
    req.once('error', () => finish(400));
    // The client went away before the end: nothing to answer.
    res.once('close', () => {
      if (!finished) {
        finished = true;
        next(false);
      }
    });
  };
}

/**
 * Runs the route's `admit` on the headers before the body is read: its answer (a refusal) is sent
 * and the body never buffered; a failure is a 500 without its message, as in rawHandler.
 */
function admitter(path: string, admit: NonNullable<RawRoute['admit']>, logger: Logger) {
  // Not an async function: restify wants a callback-style handler to take `next`.
  return (req: Request, res: Response, next: (stop?: false) => void): void => {
    admit(headersOf(req)).then(
      (answer) => {
        if (!answer) return next();
        // Not read: the connection is closed after the answer rather than draining a body nobody wants.
        res.setHeader('connection', 'close');
        send(res, answer);
        return next(false);
      },
      (err: unknown) => {
        const coded = asCodedError(err);
        logger.error({ err: coded, code: coded.code, path }, 'request failed');
        res.setHeader('connection', 'close');
        send(res, problemForStatus(500));
        return next(false);
      },
    );
  };
}

/** Answers a generic problem for `status` through restify (so that it counts the response as sent). */
function sendProblem(res: Response, status: number): void {
  const text = JSON.stringify(problemForStatus(status).body);
  res.sendRaw(status, text, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': String(Buffer.byteLength(text)) });
}

/** What a 503 for a busy store asks the caller to wait, in seconds (contention passes within a few). */
const STORE_BUSY_RETRY_AFTER_S = 1;

/** `durable`, for a route that writes: what it wrote (a completed case, an idempotency key) is on disk before it answers. */
function rawHandler(route: RawRoute, logger: Logger, durable?: () => Promise<void>) {
  return async (req: Request, res: Response): Promise<void> => {
    let answer: HttpAnswer;
    try {
      answer = await route.handle(inputOf(req));
      await durable?.();
    } catch (err) {
      // A bug or an unexpected failure: logged with its code, answered without its message.
      const coded = asCodedError(err);
      if (coded.code === 'STORE_BUSY') {
        // Contention on the database: retryable, and said so (never with the database's own text).
        // Every action's case is written before it acts (CaseRecorder.act): a store too busy to write
        // it stopped the request before any upstream change, and the retry acts (one busy only after
        // the change leaves that case pending, for reconciliation).
        logger.warn({ err: coded, code: coded.code, path: route.path }, 'store busy; answered 503');
        answer = { ...httpProblem('unavailable', { retryable: true }), headers: { 'retry-after': String(STORE_BUSY_RETRY_AFTER_S) } };
      } else {
        logger.error({ err: coded, code: coded.code, path: route.path }, 'request failed');
        answer = problemForStatus(500);
      }
    }
    send(res, answer);
  };
}

function headersOf(req: Request): Omit<HttpInput, 'body'> {
  const params: unknown = req.params;
  return {
    query: req.getQuery() ?? '',
    params: Object.fromEntries(
      Object.entries(params !== null && typeof params === 'object' ? params : {}).filter((e): e is [string, string] => typeof e[1] === 'string'),
    ),
    header: (name) => req.header(name) || undefined,
    contentType: req.contentType() || undefined,
    remoteAddress: req.socket.remoteAddress,
  };
}

function inputOf(req: Request): HttpInput {
  const body: unknown = req.body;
  return { ...headersOf(req), body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '', 'utf8') };
}

function send(res: Response, answer: HttpAnswer): void {
  const headers: Record<string, string | number> = { ...answer.headers };
  if (answer.text !== undefined && answer.status < 400) {
    headers['content-type'] = answer.text.contentType;
    headers['content-length'] = Buffer.byteLength(answer.text.content);
    res.writeHead(answer.status, headers);
    res.end(answer.text.content);
    return;
  }
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(answer.body);
  headers['content-type'] = answer.status >= 400 ? PROBLEM_CONTENT_TYPE : 'application/json';
  headers['content-length'] = Buffer.byteLength(text);
  res.writeHead(answer.status, headers);
  res.end(text);
}
