import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ResponseParser, runLoad, type ParsedResponse } from '../../tools/bench/load.js';

/**
 * The bench's load generator (tools/bench/load.ts): raw keep-alive sockets and its own HTTP/1.1
 * answer parser, against a local node:http server answering with Content-Length, chunked, and
 * connection-closing bodies.
 */
describe('bench load generator', () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function start(handler: http.RequestListener): Promise<string> {
    server = http.createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** /chunked answers node:http sent with chunked transfer coding. */
  let chunkedAnswers = 0;

  /** Answers each request by its path: /length, /chunked (the body in three writes), /close, /empty, /slow. */
  const handler: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const echo = JSON.stringify({ method: req.method, path: req.url, host: req.headers.host, signature: req.headers['x-signature'] ?? null, body });
      if (req.url === '/length') {
        res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(echo) });
        res.end(echo);
      } else if (req.url === '/chunked') {
        // No Content-Length: node:http sends it chunked (keep-alive); the test checks it did.
        res.on('finish', () => (chunkedAnswers += res.chunkedEncoding ? 1 : 0));
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write(echo.slice(0, 5));
        setTimeout(() => {
          res.write(echo.slice(5, 20));
          res.end(echo.slice(20));
        }, 5);
      } else if (req.url === '/close') {
        res.writeHead(202, { connection: 'close', 'content-length': Buffer.byteLength(echo) });
        res.end(echo);
      } else if (req.url === '/empty') {
        res.writeHead(204);
        res.end();
      } else if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 2_000);
      } else {
        res.writeHead(404, { 'content-length': '0' });
        res.end();
      }
    });
  };

  it('reads Content-Length, chunked, connection-closing and empty answers over a few keep-alive connections, each request once and in order', async () => {
    const url = await start(handler);
    chunkedAnswers = 0;
    const paths = ['/length', '/chunked', '/close', '/empty'];
    const requests = Array.from({ length: 40 }, (_, i) => ({
      path: paths[i % paths.length]!,
      headers: { 'content-type': 'application/json', 'x-signature': `v1,sig-${i}` },
      body: JSON.stringify({ n: i, text: 'héllo' }),
    }));
    let started = 0;
    let stopped = 0;
    const run = await runLoad({
      targets: [url],
      concurrency: 3,
      requests,
      read: (answer, i) => ({ i, status: answer.status, body: answer.body, latencyMs: answer.latencyMs }),
      onStart: () => started++,
      onStop: () => stopped++,
    });
    expect(started).toBe(1);
    expect(stopped).toBe(1);
    expect(chunkedAnswers).toBe(10);
    expect(run.failures).toEqual([]);
    expect(run.sent).toBe(40);
    expect(run.latenciesMs).toHaveLength(40);
    expect(run.perSecond).toBeGreaterThan(0);
    const host = new URL(url).host;
    run.answers.forEach((a, i) => {
      const path = paths[i % paths.length]!;
      expect(a?.i).toBe(i);
      expect(a?.latencyMs).toBeGreaterThan(0);
      if (path === '/empty') {
        expect(a).toMatchObject({ status: 204, body: '' });
        return;
      }
      expect(a?.status).toBe({ '/length': 201, '/chunked': 200, '/close': 202 }[path]);
      expect(JSON.parse(a!.body)).toEqual({ method: 'POST', path, host, signature: `v1,sig-${i}`, body: JSON.stringify({ n: i, text: 'héllo' }) });
    });
  });

  it('runs a request over and over for a duration with cycle, and stops', async () => {
    const url = await start(handler);
    const run = await runLoad({ targets: [url], concurrency: 4, requests: [{ method: 'GET', path: '/length' }], cycle: true, durationMs: 150, read: (a) => a.status });
    expect(run.failures).toEqual([]);
    expect(run.sent).toBeGreaterThan(4);
    expect(run.answers.filter((s) => s === 201)).toHaveLength(run.sent);
  });

  it('fails a request past its deadline, and goes on with the next on a new connection', async () => {
    const url = await start(handler);
    const run = await runLoad({
      targets: [url],
      concurrency: 1,
      requests: [{ path: '/slow' }, { path: '/length', body: 'after' }],
      timeoutMs: 200,
      read: (a) => a.status,
    });
    expect(run.failures).toEqual([{ index: 0, error: 'no answer within 200 ms' }]);
    expect(run.answers[0]).toBeUndefined();
    expect(run.answers[1]).toBe(201);
  });

  it('fails the requests of a target that refuses connections, with why', async () => {
    const url = await start(handler);
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    const run = await runLoad({ targets: [url], concurrency: 2, requests: [{ path: '/length' }, { path: '/length' }, { path: '/length' }], read: (a) => a.status });
    expect(run.sent).toBe(3);
    expect(run.failures.map((f) => f.index).sort()).toEqual([0, 1, 2]);
    expect(run.failures[0]!.error).toMatch(/ECONNREFUSED/);
  });
});

describe('ResponseParser', () => {
  const answers = [
    'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n{"ok":true}',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n',
    'HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n',
    'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy',
  ].join('');
  const expected = [
    { status: 200, body: '{"ok":true}', keepAlive: true, headers: { 'content-type': 'application/json', 'content-length': '11', 'set-cookie': 'a=1, b=2' } },
    { status: 200, body: 'Wikipedia in\r\n\r\nchunks.', keepAlive: true, headers: { 'transfer-encoding': 'chunked' } },
    { status: 204, body: '', keepAlive: true, headers: { date: 'x' } },
    { status: 503, body: 'busy', keepAlive: false, headers: { connection: 'close', 'content-length': '4' } },
  ];
  const parse = (pieces: Buffer[]) => {
    const got: Array<Omit<ParsedResponse, 'body'> & { body: string }> = [];
    const parser = new ResponseParser((r) => got.push({ ...r, body: r.body.toString('utf8') }));
    // Each piece is overwritten after it is pushed, as the generator reuses its read buffer.
    for (const piece of pieces) {
      parser.push(piece);
      piece.fill(0x58);
    }
    return got;
  };

  it('reads pipelined answers given whole', () => {
    expect(parse([Buffer.from(answers)])).toEqual(expected);
  });

  it('reads them given one byte at a time, and in pieces of 7 bytes', () => {
    const bytes = Buffer.from(answers);
    expect(parse([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
    expect(parse(Array.from({ length: Math.ceil(bytes.length / 7) }, (_, k) => Buffer.from(bytes.subarray(k * 7, k * 7 + 7))))).toEqual(expected);
  });

  it('reads a body without length up to the end of the connection', () => {
    const got: ParsedResponse[] = [];
    const parser = new ResponseParser((r) => got.push(r));
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nuntil'));
    parser.push(Buffer.from(' the end'));
    expect(got).toHaveLength(0);
    parser.end();
    expect(got.map((r) => [r.status, r.body.toString(), r.keepAlive])).toEqual([[200, 'until the end', false]]);
  });

  it('throws on what is not an HTTP/1.x answer', () => {
    expect(() => new ResponseParser(() => undefined).push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'))).toThrow(/status line/);
    expect(() => new ResponseParser(() => undefined).push(Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'))).toThrow(/chunk size/);
    expect(() => new ResponseParser(() => undefined).push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'))).toThrow(/content-length/);
  });
});
