/** A small in-process cache with a time-to-live and a size bound. */
export class TtlCache<V> {
  #map = new Map<string, { value: V; at: number }>();
  #ttlMs: number;
  #max: number;
  #now: () => number;

  constructor(opts: { ttlMs: number; max?: number; now: () => number }) {
    this.#ttlMs = opts.ttlMs;
    this.#max = opts.max ?? 100_000;
    this.#now = opts.now;
  }

  /** The cached value while younger than the TTL, else undefined. */
  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) return undefined;
    if (this.#now() - e.at > this.#ttlMs) {
      this.#map.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: V): void {
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next().value;
      if (oldest !== undefined) this.#map.delete(oldest);
    }
    this.#map.delete(key);
    this.#map.set(key, { value, at: this.#now() });
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}
