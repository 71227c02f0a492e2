/**
 * A small in-process cache with a size bound. Found values stay until they are replaced,
 * deleted or invalidated (their project's epoch moved: see `ProjectEpochs`); a miss remembered
 * as null or undefined ("no such key") lasts `ttlMs` only, so a key made elsewhere is seen.
 */
export class TtlCache<V> {
  #map = new Map<string, { value: V; at: number }>();
  #ttlMs: number;
  #max: number;
  #now: () => number;
  /** Lookups answered from the cache, and those that were not (for /metrics). */
  hits = 0;
  misses = 0;

  constructor(opts: { ttlMs: number; max?: number; now: () => number }) {
    this.#ttlMs = opts.ttlMs;
    this.#max = opts.max ?? 100_000;
    this.#now = opts.now;
  }

  /** The cached value (a remembered miss only while younger than the TTL), else undefined. */
  get(key: string): V | undefined {
    const e = this.#map.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    if (e.value === null && this.#now() - e.at > this.#ttlMs) {
      this.#map.delete(key);
      this.misses++;
      return undefined;
    }
    this.hits++;
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

  /** Drops every entry `drop` picks (an invalidation: rare, so a walk is fine). */
  deleteWhere(drop: (key: string, value: V) => boolean): void {
    for (const [k, e] of this.#map) if (drop(k, e.value)) this.#map.delete(k);
  }
}

/**
 * Which projects' cached records this instance may trust: each project has an epoch in KV,
 * moved by every change of its project record, keys, customers or stock. A project's epoch is
 * read at most once per `ttlMs` (not one read per cached entry); when it moved, `onChange`
 * drops the project's cached entries.
 */
export class ProjectEpochs {
  #known = new Map<string, { epoch: bigint; at: number }>();
  #ttlMs: number;
  #now: () => number;
  #read: (pk: string) => Promise<bigint>;
  #onChange: (pk: string) => void;

  constructor(
    o: {
      ttlMs: number;
      now: () => number;
      read: (pk: string) => Promise<bigint>;
      onChange: (pk: string) => void;
    },
  ) {
    this.#ttlMs = o.ttlMs;
    this.#now = o.now;
    this.#read = o.read;
    this.#onChange = o.onChange;
  }

  /** Whether the project's epoch was confirmed less than `ttlMs` ago (no KV read). */
  fresh(pk: string): boolean {
    const k = this.#known.get(pk);
    return k !== undefined && this.#now() - k.at < this.#ttlMs;
  }

  /** Confirms the project's epoch unless fresh; drops its cached entries when it moved. */
  async ensure(pk: string): Promise<void> {
    if (this.fresh(pk)) return;
    const epoch = await this.#read(pk);
    const k = this.#known.get(pk);
    if (k && k.epoch !== epoch) this.#onChange(pk);
    if (this.#known.size > 100_000) this.#known.clear();
    this.#known.set(pk, { epoch, at: this.#now() });
  }
}
