import { openSync, readSync, closeSync, statSync } from 'node:fs';
import type { BenchWorld } from './bench-world.js';
import type { Ledger } from './ledger.js';
import type { Child } from './processes.js';

/** What every scenario works with: the fake world, the Bouncer process(es) and their database. */
export interface BenchContext {
  world: BenchWorld;
  /** The Bouncer processes under test (one today; the multi-instance row adds a second). */
  bouncers: Child[];
  /** Their base URLs, in the same order. */
  urls: string[];
  ledger: Ledger;
  /** Connections of the load generator. */
  concurrency: number;
  /** --bench-cpu-prof: where the bench writes a CPU profile of its own process over each measured kick run. */
  benchCpuProfDir?: string;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it is true; false when `timeoutMs` passed first. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 20): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** Follows a log file from its current end: the lines written after `follow` was called. */
export function follow(file: string): { lines(): string[] } {
  let offset = statSync(file).size;
  let rest = '';
  const seen: string[] = [];
  return {
    lines() {
      const size = statSync(file).size;
      if (size > offset) {
        const fd = openSync(file, 'r');
        try {
          const buf = Buffer.alloc(size - offset);
          readSync(fd, buf, 0, buf.length, offset);
          offset = size;
          const parts = (rest + buf.toString('utf8')).split('\n');
          rest = parts.pop() ?? '';
          seen.push(...parts);
        } finally {
          closeSync(fd);
        }
      }
      return seen;
    },
  };
}
