import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage & { body: string; url: string }, res: ServerResponse) => void | Promise<void>;

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** A certificate and its private key, PEM-encoded. */
export interface TlsIdentity {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface ListenOptions {
  /** Serve HTTPS with this identity (clients must trust it, e.g. through NODE_EXTRA_CA_CERTS). */
  tls?: TlsIdentity;
}

/** Starts an HTTP (or, with tls, HTTPS) server on 127.0.0.1 and a free port. */
export async function listen(handler: Handler, options: ListenOptions = {}): Promise<LocalServer> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const withBody = Object.assign(req, { body: Buffer.concat(chunks).toString('utf8'), url: req.url ?? '/' });
      Promise.resolve(handler(withBody, res)).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: { code: 'sandboxServerError', message: String(err) } });
        else res.end();
      });
    });
  };
  let server: http.Server | https.Server;
  if (options.tls) {
    server = https.createServer({ cert: options.tls.cert, key: options.tls.key }, onRequest);
  } else {
    server = http.createServer(onRequest);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * A client for a protocol server's own calls out (Graph's notifications to the callback URI): one
 * keep-alive connection pool per scheme, node:http(s) rather than fetch, which costs the server
 * several times more CPU per request (the benchmark runs these servers in its own process and
 * counts their CPU). The answer's body is read and dropped: only its status is kept.
 */
export class OutboundClient {
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  /** POSTs `body`; resolves with the answer's status once it has been read, rejects when none came within `timeoutMs`. */
  post(url: string, headers: Record<string, string>, body: string, timeoutMs = 300_000): Promise<number> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const payload = Buffer.from(body);
    return new Promise<number>((resolve, reject) => {
      const req = (secure ? https : http).request(
        target,
        { method: 'POST', agent: secure ? this.agents.https : this.agents.http, headers: { ...headers, 'content-length': String(payload.length) }, timeout: timeoutMs },
        (res) => {
          res.on('error', reject);
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.resume();
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
  res.end(text);
}

/** A fault a protocol server injects: requests of `method` whose path matches, `times` of them (all while listed, when absent). */
export interface SandboxFault {
  method: string;
  path: RegExp;
  times?: number;
}

/** The first fault that applies to this request, counting it against its `times`. */
export function takeFault<F extends SandboxFault>(faults: F[], method: string | undefined, path: string): F | undefined {
  const fault = faults.find((f) => f.method === method && f.path.test(path) && (f.times === undefined || f.times > 0));
  if (fault?.times !== undefined) fault.times--;
  return fault;
}
