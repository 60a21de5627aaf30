import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { keepAliveHttp } from '../../src/http/outbound-http.js';

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

/** A local server: `/ok` answers at once; `/stall-head` never answers; `/stall-body` sends its head and half a body. */
async function server(): Promise<string> {
  const s = http.createServer((req, res) => {
    if (req.url === '/ok') {
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': 'r-1' }).end('{"ok":true}');
    } else if (req.url === '/stall-body') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"value":[');
    }
  });
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('keepAliveHttp', () => {
  it('answers within timeoutMs as fetch would', async () => {
    const url = await server();
    const res = await keepAliveHttp()(`${url}/ok`, { method: 'GET', headers: {}, timeoutMs: 1_000 });
    expect(res).toMatchObject({ ok: true, status: 200 });
    expect(res.headers.get('Request-Id')).toBe('r-1');
    expect(await res.text()).toBe('{"ok":true}');
  });

  it('fails with a TimeoutError past timeoutMs, whether the head or the body is late', async () => {
    const url = await server();
    const get = keepAliveHttp();
    for (const path of ['/stall-head', '/stall-body']) {
      const started = Date.now();
      await expect(get(`${url}${path}`, { method: 'GET', headers: {}, timeoutMs: 150 })).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    }
  });

  it('still takes a signal instead (fetch\'s way): an aborted request fails with its reason', async () => {
    const url = await server();
    await expect(keepAliveHttp()(`${url}/stall-head`, { method: 'GET', headers: {}, signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'AbortError' });
  });
});
