import { fnv1a } from "@/lib/ids.ts";

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

/** One cached record; records whose ids hash alike are chained. */
interface Slot<V> {
  id: string;
  value: V;
  next: Slot<V> | null;
}

/**
 * Records that belong to a project (customers), cached per project: a found value stays until it
 * is replaced or deleted, or its project is dropped (the project's epoch moved), which costs the
 * same whatever the project holds: no walk over entries. At most `max` entries over all
 * projects; past it the oldest entry of the longest-held project goes first.
 *
 * Within a project, records are keyed by the FNV-1a of their id, not by the id: the ids looked
 * up on the hot path are strings fresh from request headers, and V8 looks a fresh string up in a
 * large string-keyed Map at several times the cost of a number (measured under load at 10 000
 * customers: the lookup was the single largest cost of `GET /api/usage` in the hot path).
 */
export class ProjectScopedCache<V> {
  #projects = new Map<string, { slots: Map<number, Slot<V>>; n: number }>();
  #size = 0;
  #max: number;
  /** Lookups answered from the cache, and those that were not (for /metrics). */
  hits = 0;
  misses = 0;

  constructor(opts: { max?: number } = {}) {
    this.#max = opts.max ?? 100_000;
  }

  /** Entries held over all projects. */
  get size(): number {
    return this.#size;
  }

  get(pk: string, id: string): V | undefined {
    const p = this.#projects.get(pk);
    if (p !== undefined) {
      for (let s = p.slots.get(fnv1a(id)) ?? null; s !== null; s = s.next) {
        if (s.id === id) {
          this.hits++;
          return s.value;
        }
      }
    }
    this.misses++;
    return undefined;
  }

  set(pk: string, id: string, value: V): void {
    const h = fnv1a(id);
    const p = this.#projects.get(pk);
    const head = p?.slots.get(h);
    for (let s = head ?? null; p && head && s; s = s.next) {
      if (s.id !== id) continue;
      s.value = value;
      p.slots.delete(h); // set again: now the newest of its project
      p.slots.set(h, head);
      return;
    }
    if (this.#size >= this.#max) this.#evictOldest();
    let q = this.#projects.get(pk); // evicting may have taken `head` or the project
    if (!q) this.#projects.set(pk, q = { slots: new Map(), n: 0 });
    q.slots.set(h, { id, value, next: q.slots.get(h) ?? null });
    q.n++;
    this.#size++;
  }

  delete(pk: string, id: string): void {
    const p = this.#projects.get(pk);
    if (!p) return;
    const h = fnv1a(id);
    let prev: Slot<V> | null = null;
    for (let s = p.slots.get(h) ?? null; s; prev = s, s = s.next) {
      if (s.id !== id) continue;
      if (prev) prev.next = s.next;
      else if (s.next) p.slots.set(h, s.next);
      else p.slots.delete(h);
      this.#forgot(pk, p, 1);
      return;
    }
  }

  /** Forgets everything held for the project at once (its epoch moved). */
  dropProject(pk: string): void {
    const p = this.#projects.get(pk);
    if (p) this.#forgot(pk, p, p.n);
  }

  #forgot(pk: string, p: { n: number }, n: number): void {
    p.n -= n;
    this.#size -= n;
    if (p.n === 0) this.#projects.delete(pk);
  }

  #evictOldest(): void {
    const first = this.#projects.entries().next();
    if (first.done) return;
    const [pk, p] = first.value;
    const [h, head] = p.slots.entries().next().value!;
    if (head.next) p.slots.set(h, head.next);
    else p.slots.delete(h);
    this.#forgot(pk, p, 1);
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
