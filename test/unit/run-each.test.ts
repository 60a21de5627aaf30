import { describe, expect, it } from 'vitest';
import { runEach } from '../../src/app/commands/run-command.js';

/** Issue 12, item 4: the parts of a bulk command, in order; the first alone until it is ready. */
describe('runEach', () => {
  const tick = () => new Promise((r) => setTimeout(r, 5));

  it('gives the results in the parts’ order, whatever order they finish in', async () => {
    const results = await runEach([30, 1, 15], async (ms, index) => {
      await new Promise((r) => setTimeout(r, ms));
      return `${index}:${ms}`;
    });
    expect(results).toEqual(['0:30', '1:1', '2:15']);
  });

  it('runs the first part alone until it says it is ready, then the others at once', async () => {
    const log: string[] = [];
    let running = 0;
    let most = 0;
    await runEach(['a', 'b', 'c'], async (part, _i, ready) => {
      running++;
      most = Math.max(most, running);
      log.push(`start ${part}`);
      await tick();
      if (part === 'a') {
        log.push('a ready');
        ready();
      }
      await tick();
      log.push(`end ${part}`);
      running--;
    });
    expect(log.slice(0, 2)).toEqual(['start a', 'a ready']);
    expect(log.indexOf('start b')).toBeGreaterThan(log.indexOf('a ready'));
    expect(log.indexOf('start b')).toBeLessThan(log.indexOf('end a'));
    expect(most).toBe(3);
  });

  it('starts the others when the first ends without being ready', async () => {
    const log: string[] = [];
    await runEach([1, 2], async (part) => {
      log.push(`start ${part}`);
      await tick();
      log.push(`end ${part}`);
    });
    expect(log).toEqual(['start 1', 'end 1', 'start 2', 'end 2']);
  });

  it('rethrows a part’s failure only once every part has settled', async () => {
    const settled: number[] = [];
    await expect(
      runEach([0, 1, 2], async (part) => {
        await new Promise((r) => setTimeout(r, part === 2 ? 30 : 1));
        settled.push(part);
        if (part === 1) throw new Error('part 1 failed');
      }),
    ).rejects.toThrow('part 1 failed');
    expect(settled.sort()).toEqual([0, 1, 2]);
  });

  it('runs nothing for no parts', async () => {
    expect(await runEach([], () => Promise.reject(new Error('not called')))).toEqual([]);
  });
});
