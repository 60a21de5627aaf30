import { randomBytes, randomUUID } from 'node:crypto';
import net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { MEETING_CHAT_ID, PEOPLE, startHarness, type Harness } from '../support/harness.js';
import { adminConnection, describePostgres, postgresAvailability, TEST_DATABASE_URL, testSchemaName, testUrl } from '../support/postgres.js';
import { signedHeaders } from '../support/webhooks.js';

// A PostgreSQL store too busy to answer (a statement whose answer does not come in time, no free
// pooled connection, a lock held past statement_timeout) is a retryable 503 with Retry-After, never
// a 500. A kick refused so has acted on nobody (its case is written before its DELETE, and the
// store could not write it): no case, no DELETE, and its retry with the same webhook-id acts once.
const availability = await postgresAvailability();
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

/** A TCP proxy to the test server that can stop passing the server's answers on (a server that does not answer). */
async function stallingProxy(): Promise<{ url: (options: Record<string, string | number>) => string; stall(on: boolean): void; close(): Promise<void> }> {
  const target = new URL(TEST_DATABASE_URL);
  const sockets = new Set<net.Socket>();
  let stalled = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: (options) => {
      const url = new URL(testUrl(options));
      url.hostname = '127.0.0.1';
      url.port = String(port);
      return url.toString();
    },
    stall: (on) => {
      stalled = on;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describePostgres('a busy PostgreSQL store', availability, () => {
  const admin = adminConnection();
  let h: Harness;
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await h.close();
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function start(options: Record<string, string | number>, url = testUrl) {
    const schema = admin.dropAfterwards(testSchemaName());
    h = await startHarness({ DATABASE_URL: url({ schema, ...options }), WEBHOOK_SECRETS: SECRET });
    await h.send(PEOPLE.olivia, '/bind', []);
    await h.graph.settle();
    return schema;
  }

  async function kick(userId: string, id = `msg_${randomUUID()}`) {
    const raw = JSON.stringify({ call: { conversationId: MEETING_CHAT_ID }, target: { userId }, reason: 'raid' });
    const res = await fetch(`${h.bouncer.url}/api/moderation/kick`, { method: 'POST', headers: signedHeaders(SECRET, raw, { id }), body: raw });
    return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as Record<string, unknown>, id };
  }
  const deletes = () => h.graph.requests.filter((r) => r.method === 'DELETE');
  const webhookCases = async () => (await h.bouncer.store.cases.list({ limit: 100 })).filter((c) => c.source === 'webhook');
  const busyAnswer = { type: 'urn:bouncer:problem:unavailable', status: 503, retryable: true };

  it("a statement whose answer never comes (node-postgres's Query read timeout): 503 with Retry-After, and the retry acts once", async () => {
    const proxy = await stallingProxy();
    cleanups.push(() => proxy.close());
    await start({ statement_timeout: 500 }, proxy.url);

    proxy.stall(true);
    const refused = await kick(PEOPLE.mallory.aadObjectId);
    proxy.stall(false);

    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toBe('1');
    expect(refused.body).toEqual({ ...busyAnswer, title: expect.any(String) });
    expect(JSON.stringify(refused.body)).not.toMatch(/timeout|postgres|query/i);
    expect(h.logs.some((l) => l.includes('store busy; answered 503') && l.includes('Query read timeout'))).toBe(true);
    expect(deletes()).toHaveLength(0);

    const retry = await kick(PEOPLE.mallory.aadObjectId, refused.id);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ outcome: 'removed' });
    expect(deletes()).toHaveLength(1);
    expect(await webhookCases()).toHaveLength(1);
  });

  it('no free pooled connection, and a case that cannot be written under a lock: both 503 with Retry-After, nobody removed, no case; the retries act', async () => {
    const schema = await start({ max: 1, connect_timeout: 1, statement_timeout: 2_500 });
    await admin.client().query('BEGIN');
    cleanups.push(() => admin.client().query('ROLLBACK'));
    await admin.client().query(`LOCK TABLE "${schema}".cases IN ACCESS EXCLUSIVE MODE`);

    // The first kick's case waits on the lock, holding the pool's one connection; the second finds none free.
    const first = kick(PEOPLE.mallory.aadObjectId);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const second = await kick(PEOPLE.ann.aadObjectId);
    const firstAnswer = await first;
    await admin.client().query('ROLLBACK');

    for (const refused of [firstAnswer, second]) {
      expect(refused.status).toBe(503);
      expect(refused.retryAfter).toBe('1');
      expect(refused.body).toMatchObject(busyAnswer);
    }
    expect(deletes()).toHaveLength(0);
    expect(await webhookCases()).toHaveLength(0);
    expect(h.logs.filter((l) => l.includes('store busy; answered 503'))).toHaveLength(2);

    const retries = await Promise.all([kick(PEOPLE.mallory.aadObjectId, firstAnswer.id), kick(PEOPLE.ann.aadObjectId, second.id)]);
    expect(retries.map((r) => [r.status, r.body.outcome])).toEqual([
      [200, 'removed'],
      [200, 'removed'],
    ]);
    expect(deletes()).toHaveLength(2);
    expect((await webhookCases()).map((c) => c.requestId).sort()).toEqual([firstAnswer.id, second.id].sort());
  });
});
