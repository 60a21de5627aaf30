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

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
  res.end(text);
}
