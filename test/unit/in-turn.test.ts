import { describe, expect, it } from 'vitest';
import { InTurn } from '../../src/store/in-turn.js';

/** A task that records its start and end, and ends when told to (or fails). */
function makeGate(log: string[], name: string) {
  let open!: () => void;
  let fail!: (err: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  const task = async () => {
    log.push(`start ${name}`);
    try {
      await done;
    } finally {
      log.push(`end ${name}`);
    }
  };
  return { task, open: () => open(), fail: (err: Error) => fail(err) };
}

type Gate = ReturnType<typeof makeGate>;

/** An InTurn, a log, and gates (one per name given) writing to that log. */
function fixture() {
  const log: string[] = [];
  const gates = <N extends string[]>(...names: N) => names.map((name) => makeGate(log, name)) as { [K in keyof N]: Gate };
  return { turns: new InTurn(), log, gates };
}

describe('InTurn', () => {
  it('starts the first task of a key at once and each next one after the previous settles, in order', async () => {
    const { turns, log, gates } = fixture();
    const [a, b, c] = gates('a', 'b', 'c');
    const runs = [turns.run('k', a.task), turns.run('k', b.task), turns.run('k', c.task)];
    expect(log).toEqual(['start a']);
    c.open();
    b.open();
    await Promise.resolve();
    expect(log).toEqual(['start a']);
    a.open();
    await Promise.all(runs);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('runs the next task after one that failed, and gives the failure to its own caller only', async () => {
    const { turns, log, gates } = fixture();
    const [a, b] = gates('a', 'b');
    const first = turns.run('k', a.task);
    const second = turns.run('k', b.task);
    a.fail(new Error('a failed'));
    await expect(first).rejects.toThrow('a failed');
    b.open();
    await expect(second).resolves.toBeUndefined();
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('lets tasks of other keys run meanwhile, and starts a key afresh once its tasks are done', async () => {
    const { turns, log, gates } = fixture();
    const [a, x] = gates('a', 'x');
    const runA = turns.run('k1', a.task);
    const runX = turns.run('k2', x.task);
    expect(log).toEqual(['start a', 'start x']);
    x.open();
    a.open();
    await Promise.all([runA, runX]);
    await new Promise((resolve) => setImmediate(resolve));
    const [later] = gates('later');
    const run = turns.run('k1', later.task);
    // Nothing to wait for: it starts in this turn.
    expect(log.at(-1)).toBe('start later');
    later.open();
    await run;
  });
});
