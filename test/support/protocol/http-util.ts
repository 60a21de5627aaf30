import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export type Handler = (req: IncomingMessage & { body: string; url: string }, res: ServerResponse) => void | Promise<void>;

export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

/** Starts an HTTP (or, with tls, HTTPS) server on 127.0.0.1 and an ephemeral port. */
export async function listen(handler: Handler, options: { tls?: boolean } = {}): Promise<LocalServer> {
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const withBody = Object.assign(req, { body: Buffer.concat(chunks).toString('utf8'), url: req.url ?? '/' });
      Promise.resolve(handler(withBody, res)).catch((err: unknown) => {
        if (!res.headersSent) json(res, 500, { error: { code: 'testServerError', message: String(err) } });
        else res.end();
      });
    });
  };
  let server: http.Server | https.Server;
  if (options.tls) {
    const cert = process.env.BOUNCER_TEST_TLS_CERT;
    const key = process.env.BOUNCER_TEST_TLS_KEY;
    if (!cert || !key) throw new Error('TLS test certificate missing: is test/support/global-setup.ts configured?');
    server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, onRequest);
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
