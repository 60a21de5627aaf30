/**
 * Runs tasks of the same key one after another, in the order given, in this process: a task
 * starts once the key's previous one has settled, whether it succeeded or not. Keys with nothing
 * running or waiting are forgotten. (Both stores' roster syncs of one call take turns this way.)
 */
export class InTurn {
  /** The last task of each key still running (or failed), so that the next one waits for it. */
  private readonly last = new Map<string, Promise<void>>();

  run(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.last.get(key);
    const run = previous ? previous.then(task) : task();
    // The next task of this key waits for this one, whether it succeeds or not.
    const settled = run.catch(() => undefined);
    this.last.set(key, settled);
    void settled.then(() => {
      if (this.last.get(key) === settled) this.last.delete(key);
    });
    return run;
  }
}
