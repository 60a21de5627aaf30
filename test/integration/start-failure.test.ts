import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load-config.js';
import { createLogger } from '../../src/logger.js';
import { startBouncer } from '../../src/main.js';
import { rejection } from '../support/rejection.js';

describe('a start that cannot listen', () => {
  const cleanup: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  it('rejects with the listen error and leaves nothing running: the store is closed, no upkeep round goes on', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => taken.close(() => resolve())));
    const port = (taken.address() as net.AddressInfo).port;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bouncer-start-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'bouncer.sqlite');
    const result = loadConfig({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${file}` });
    if (!result.ok) throw new Error(result.problems.join('; '));
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _e, done) => void (lines.push(String(chunk)), done()) });

    const err = await rejection(startBouncer(result.config, { logger: createLogger('debug', sink), reconcileEveryMs: 10 }));
    expect(err).toMatchObject({ code: 'EADDRINUSE' });

    // The database was opened (and its WAL made) at start; closed, SQLite removes the WAL.
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}-wal`)).toBe(false);
    // No upkeep round runs after the failure.
    const logged = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines.length).toBe(logged);
  });
});
