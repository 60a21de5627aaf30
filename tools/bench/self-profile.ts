import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/**
 * `--bench-cpu-prof=<dir>`: a V8 CPU profile of the bench's own process (the load generator and the
 * local protocol servers) over one measured run, written to `<dir>/bench-<name>.cpuprofile` (open it
 * in Chrome DevTools or speedscope). Only the measured window is profiled, not the setup around it.
 * Without a directory, `fn` simply runs.
 */
export async function profileBench<T>(dir: string | undefined, name: string, fn: () => Promise<T>): Promise<T> {
  if (dir === undefined) return fn();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    let result: T;
    try {
      result = await fn();
    } finally {
      const { profile } = await session.post('Profiler.stop');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `bench-${name.replace(/[^\w.-]+/g, '-')}.cpuprofile`), JSON.stringify(profile));
    }
    return result;
  } finally {
    session.disconnect();
  }
}
