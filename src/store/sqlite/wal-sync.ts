import { open, type FileHandle } from 'node:fs/promises';

/**
 * Group commit for an SQLite database in WAL mode with `synchronous = NORMAL`: a commit writes its
 * frames to the WAL file without waiting for the disk, and `durable()` makes every commit made so
 * far durable with one `fdatasync` of the WAL file, run on libuv's thread pool, so the event loop
 * goes on meanwhile. Callers who arrive while a sync runs share the next one, so a burst of
 * requests pays for a few syncs, not one per commit (with `synchronous = FULL` SQLite would sync
 * on every commit, holding the event loop each time).
 *
 * Sound because the WAL file keeps its inode while this process has the database open, and a
 * checkpoint (which moves frames into the database file and lets the WAL start over) syncs the
 * WAL and then the database file itself under `synchronous = NORMAL`: a commit is on disk either
 * in the WAL, once this sync has run, or in the database file.
 *
 * A failed fdatasync is not tried again: on Linux the kernel may have dropped the pages it could
 * not write and cleared the error, so a second fdatasync can succeed although the commits are not
 * on disk. From then on every `durable()` fails (nothing more is answered or done upstream on this
 * process's writes) and `failure` says why, for /healthz, until the process restarts and SQLite
 * reopens the file from what the disk really holds. A WAL file that could not be opened is tried
 * again: nothing was lost by that.
 */
export class WalSync {
  /** Writes made (counted by the store), and the count the last finished sync covers. */
  private written = 0;
  private synced = 0;
  private running?: Promise<void>;
  private file?: Promise<FileHandle>;
  /** The failed fdatasync after which nothing this process wrote can be called durable. */
  private broken?: Error;

  constructor(
    private readonly walPath: string,
    /** How the file is synced (fdatasync by default); tests count the calls. */
    private readonly sync: (file: FileHandle) => Promise<void> = (file) => file.datasync(),
  ) {}

  /** `count` writes were committed (their frames are in the WAL, perhaps not yet on disk). */
  wrote(count = 1): void {
    this.written += count;
  }

  /**
   * Resolves once every write committed before the call is on disk. A sync already running may
   * have started before that write: then the next one, shared by everyone waiting, covers it.
   */
  async durable(): Promise<void> {
    const target = this.written;
    for (;;) {
      if (this.broken) throw this.broken;
      if (this.synced >= target) return;
      if (this.running) {
        // Its failure is its starter's to report; this caller then tries a sync of its own.
        await this.running.catch(() => undefined);
        continue;
      }
      await this.start();
    }
  }

  /** The failed fdatasync that ended durability for this process, if one did. */
  get failure(): Error | undefined {
    return this.broken;
  }

  async close(): Promise<void> {
    await this.running?.catch(() => undefined);
    const file = await this.file?.catch(() => undefined);
    this.file = undefined;
    await file?.close();
  }

  private start(): Promise<void> {
    const covers = this.written;
    const run = (async () => {
      try {
        let file: FileHandle;
        try {
          this.file ??= open(this.walPath, 'r');
          file = await this.file;
        } catch (err) {
          // Not opened: the next call tries again.
          this.file = undefined;
          throw err;
        }
        try {
          await this.sync(file);
        } catch (err) {
          this.broken = err instanceof Error ? err : new Error(String(err));
          throw err;
        }
        this.synced = Math.max(this.synced, covers);
      } finally {
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }
}
