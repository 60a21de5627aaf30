import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PEOPLE, startHarness, type Harness } from '../support/harness.js';

/** Issue 11 item 10: a shutdown is bounded by SHUTDOWN_GRACE_MS, whatever an upstream does. */
describe('shutdown with a hung upstream', () => {
  let h: Harness | undefined;
  let hung: Server | undefined;
  const sockets = new Set<Socket>();
  afterEach(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => (hung ? hung.close(() => resolve()) : resolve()));
    await h?.close();
    h = undefined;
  });

  it('close() stops accepting, waits for requests in flight up to the grace, then closes the store', async () => {
    // A Graph that takes every request and never answers.
    const seen: IncomingMessage[] = [];
    hung = createServer((req) => void seen.push(req));
    hung.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => hung!.listen(0, '127.0.0.1', resolve));
    const graphUrl = `http://127.0.0.1:${(hung.address() as AddressInfo).port}/v1.0`;
    h = await startHarness({ GRAPH_BASE_URL: graphUrl, UPSTREAM_TIMEOUT_MS: '300000', SHUTDOWN_GRACE_MS: '500' });

    const inFlight = h.send(PEOPLE.olivia, '/kick <at>Mallory</at>', [PEOPLE.mallory]).catch(() => 0);
    const deadline = Date.now() + 5_000;
    while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(seen.length).toBeGreaterThan(0);

    const started = Date.now();
    await h.bouncer.close();
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(3_000);
    // No longer accepting.
    await expect(fetch(`${h.bouncer.url}/healthz`)).rejects.toThrow();
    await inFlight;
  }, 15_000);

  it('close() without requests in flight returns at once', async () => {
    h = await startHarness({ SHUTDOWN_GRACE_MS: '10000' });
    const started = Date.now();
    await h.bouncer.close();
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
