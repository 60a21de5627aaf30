/**
 * A small in-memory cache with a time-to-live and a size bound (oldest entries go first). The bound
 * counts entries, or, given `weigh`, the sum of the entries' weights as they were when set (a set
 * of ids weighs its size).
 */
export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number; weight: number }>();
  private total = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number = Date.now,
    private readonly weigh: (value: V) => number = () => 1,
  ) {}

  get(key: string): V | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= this.now()) {
      this.delete(key);
      return undefined;
    }
    return hit.value;
  }

  /** Keeps `value` for `ttlMs` (the cache's own time-to-live unless told). */
  set(key: string, value: V, ttlMs: number = this.ttlMs): void {
    this.delete(key);
    const weight = Math.max(1, this.weigh(value));
    this.entries.set(key, { value, expires: this.now() + ttlMs, weight });
    this.total += weight;
    // The newest entry stays even when it alone is over the bound.
    while (this.total > this.maxEntries && this.entries.size > 1) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.delete(oldest);
    }
  }

  delete(key: string): void {
    const hit = this.entries.get(key);
    if (!hit) return;
    this.entries.delete(key);
    this.total -= hit.weight;
  }

  /** Returns the cached value, or loads, caches (for `ttlOf(value)`, else the cache's time-to-live) and returns it. Failures are not cached. */
  async getOrLoad(key: string, load: () => Promise<V>, ttlOf?: (value: V) => number): Promise<V> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const value = await load();
    this.set(key, value, ttlOf?.(value));
    return value;
  }
}
