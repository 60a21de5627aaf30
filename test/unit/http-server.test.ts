import type { AddressInfo } from 'node:net';
import type { Server } from 'restify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHttpServer } from '../../src/http/server.js';
import type { Route } from '../../src/http/route.js';
import { createLogger } from '../../src/logger.js';

/** The server's own behaviour: routes registered from a list, and one problem+json error shape. */
describe('createHttpServer', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  async function start(routes: Route[], durable: () => Promise<void> = async () => undefined): Promise<string> {
    server = createHttpServer({ routes, ping: async () => undefined, durable, logger: createLogger('silent'), configured: { x: true }, version: '1.2.3' });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const echo: Route = {
    kind: 'raw',
    method: 'POST',
    path: '/echo',
    maxBodyBytes: 16,
    handle: async (input) =>
      input.query === 'fail'
        ? { status: 409, body: { type: 'urn:bouncer:problem:x', title: 'X', status: 409 } }
        : { status: 200, body: { got: input.body.toString('utf8'), type: input.contentType, header: input.header('x-test') } },
  };
  const broken: Route = {
    kind: 'raw',
    method: 'POST',
    path: '/broken',
    maxBodyBytes: 1024,
    handle: async () => {
      throw new Error('database password is hunter2');
    },
  };

  it('hands a raw route the body exactly as sent, with its headers and query', async () => {
    const url = await start([echo]);
    const res = await fetch(`${url}/echo`, { method: 'POST', headers: { 'content-type': 'text/plain', 'x-test': 'yes' }, body: 'a b' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ got: 'a b', type: 'text/plain', header: 'yes' });
    const failed = await fetch(`${url}/echo?fail`, { method: 'POST', body: '' });
    expect(failed.status).toBe(409);
    expect(failed.headers.get('content-type')).toBe('application/problem+json');
  });

  it("answers a raw POST only once the store's writes are on disk (durable), and a failed sync with a generic 500", async () => {
    const events: string[] = [];
    let release!: () => void;
    let fail = false;
    const writer: Route = {
      kind: 'raw',
      method: 'POST',
      path: '/write',
      maxBodyBytes: 16,
      handle: async () => {
        events.push('handled');
        return { status: 200, body: { ok: true } };
      },
    };
    const url = await start([writer], () => {
      events.push('durable asked');
      if (fail) return Promise.reject(new Error('EIO on /var/lib/bouncer.sqlite-wal'));
      return new Promise<void>((resolve) => {
        release = () => {
          events.push('on disk');
          resolve();
        };
      });
    });
    const answered = fetch(`${url}/write`, { method: 'POST', body: '{}' }).then(async (res) => {
      events.push('answered');
      return { status: res.status, body: await res.json() };
    });
    await vi.waitFor(() => expect(events).toEqual(['handled', 'durable asked']));
    await new Promise((r) => setTimeout(r, 50));
    expect(events).toEqual(['handled', 'durable asked']);
    release();
    expect(await answered).toEqual({ status: 200, body: { ok: true } });
    expect(events).toEqual(['handled', 'durable asked', 'on disk', 'answered']);

    fail = true;
    const res = await fetch(`${url}/write`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain('EIO');
    expect(JSON.parse(text)).toEqual({ type: 'urn:bouncer:problem:internal', title: 'Internal error', status: 500 });
  });

  it('answers a route that throws with a generic 500 problem, never its message', async () => {
    const url = await start([broken]);
    const res = await fetch(`${url}/broken`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(500);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(JSON.parse(text)).toEqual({ type: 'urn:bouncer:problem:internal', title: 'Internal error', status: 500 });
  });

  it('answers errors restify raises itself (too large, no such route) as problems', async () => {
    const url = await start([echo]);
    const big = await fetch(`${url}/echo`, { method: 'POST', body: 'x'.repeat(64) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ type: 'urn:bouncer:problem:payload-too-large', status: 413 });
    const missing = await fetch(`${url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ type: 'urn:bouncer:problem:not-found', status: 404 });
  });

  it("asks a route's admit before reading the body: a refusal is sent without reading it, an admission reads it", async () => {
    let bodiesRead = 0;
    const gated: Route = {
      kind: 'raw',
      method: 'POST',
      path: '/gated',
      maxBodyBytes: 4 * 1024 * 1024,
      admit: async (input) =>
        input.header('authorization') === 'Bearer ok' ? undefined : { status: 401, body: { type: 'urn:bouncer:problem:unauthorized', title: 'No', status: 401 } },
      handle: async (input) => {
        bodiesRead++;
        return { status: 200, body: { bytes: input.body.length } };
      },
    };
    const failing: Route = { ...gated, path: '/failing', admit: async () => Promise.reject(new Error('key store password is hunter2')) };
    const url = await start([gated, failing]);
    const body = 'x'.repeat(3 * 1024 * 1024);

    const refused = await fetch(`${url}/gated`, { method: 'POST', body });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toMatchObject({ status: 401 });

    const broken = await fetch(`${url}/failing`, { method: 'POST', body: '{}' });
    expect(broken.status).toBe(500);
    expect(await broken.text()).not.toContain('hunter2');
    expect(bodiesRead).toBe(0);

    const admitted = await fetch(`${url}/gated`, { method: 'POST', headers: { authorization: 'Bearer ok' }, body });
    expect(admitted.status).toBe(200);
    expect(await admitted.json()).toEqual({ bytes: body.length });
    expect(bodiesRead).toBe(1);
  });

  it('serves /healthz with what is configured', async () => {
    const url = await start([]);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok', version: '1.2.3', configured: { x: true } });
  });
});
