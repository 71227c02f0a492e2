import { fnv1a } from "@/lib/ids.ts";

/**
 * A small in-process cache with a size bound. Found values stay until they are replaced,
 * deleted or invalidated (their project's epoch moved: see `ProjectEpochs`); a miss remembered
 * as null or undefined ("no such key") lasts `ttlMs` only, so a key made elsewhere is seen.
 */
export class TtlCache<V> {
  #map = new Map<string, { value: V; at: number }>();
  #removals = 0;
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

  /**
   * Where the cache stands before a value is read from the store, for `fill` after the read:
   * the count of deletions so far (rare: a key revoked, a project changed elsewhere).
   */
  mark(): number {
    return this.#removals;
  }

  /**
   * Caches a value read from the store since `mark`, unless something newer is known: an entry
   * set meanwhile (by the write that changed it), or a deletion meanwhile (the read may be of
   * what was revoked or changed). Setting it anyway would put back what was read before the
   * change. Answers whether it was cached.
   */
  fill(key: string, value: V, mark: number): boolean {
    if (mark !== this.#removals || this.#map.has(key)) return false;
    this.set(key, value);
    return true;
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
    this.#removals++;
    this.#map.delete(key);
  }

  /** Drops every entry `drop` picks (an invalidation: rare, so a walk is fine). */
  deleteWhere(drop: (key: string, value: V) => boolean): void {
    this.#removals++;
    for (const [k, e] of this.#map) if (drop(k, e.value)) this.#map.delete(k);
  }
}

/**
 * A cached value and what a reader keeps beside it (`aux`: derived from the entry, reset when
 * the value is set again).
 */
export interface CacheEntry<V, A> {
  readonly value: V;
  aux: A | undefined;
}

/**
 * A key's slot in an `FnvMap`: its FNV-1a cut to 30 bits. V8 holds an integer below 2^30 as a
 * small integer; a full 32-bit hash is above that for three keys in four, and each of those
 * lookups boxes the number and hashes the box (with the hot path's last key remembered beside
 * it, `GET /api/usage` at 10 000 customers answered ~7 % more calls; keys that share a slot are
 * chained as any collision is).
 */
const slotOf = (key: string): number => fnv1a(key) & 0x3fffffff;

/** One entry of an `FnvMap`; keys whose hashes collide are chained. */
interface Slot<V, A> extends CacheEntry<V, A> {
  key: string;
  value: V;
  next: Slot<V, A> | null;
}

/**
 * A Map from strings, stored under the FNV-1a of each key (checked against the key). Keys that
 * arrive fresh with each request (an id from a header, a key built per call) are found at the
 * cost of a number: V8 looks a freshly made string up in a large string-keyed Map at several
 * times that (measured under load at 10 000 customers: the lookup was the single largest cost of
 * `GET /api/usage` in the hot path). Iterates oldest first; a key set again becomes the newest.
 */
export class FnvMap<V, A = never> {
  #slots = new Map<number, Slot<V, A>>();
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    return this.entry(key)?.value;
  }

  /** The key's entry: its value and what the reader keeps beside it. */
  entry(key: string): CacheEntry<V, A> | undefined {
    for (let s = this.#slots.get(slotOf(key)) ?? null; s !== null; s = s.next) {
      if (s.key === key) return s;
    }
    return undefined;
  }

  set(key: string, value: V): void {
    const h = slotOf(key);
    const head = this.#slots.get(h) ?? null;
    for (let s = head; s !== null; s = s.next) {
      if (s.key !== key) continue;
      s.value = value;
      s.aux = undefined;
      this.#slots.delete(h); // its chain moves to the newest place
      this.#slots.set(h, head!);
      return;
    }
    this.#slots.set(h, { key, value, aux: undefined, next: head });
    this.#size++;
  }

  delete(key: string): boolean {
    const h = slotOf(key);
    let prev: Slot<V, A> | null = null;
    for (let s = this.#slots.get(h) ?? null; s !== null; prev = s, s = s.next) {
      if (s.key !== key) continue;
      if (prev) prev.next = s.next;
      else if (s.next) this.#slots.set(h, s.next);
      else this.#slots.delete(h);
      this.#size--;
      return true;
    }
    return false;
  }

  /** Entries, oldest first (deleting the entry just visited is safe). */
  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (const head of this.#slots.values()) {
      for (let s: Slot<V, A> | null = head; s !== null; s = s.next) yield [s.key, s.value];
    }
  }
}

/**
 * Records that belong to a project (customers), cached per project in an `FnvMap` by id: a found
 * value stays until it is replaced or deleted, or its project is dropped (the project's epoch
 * moved), which costs the same whatever the project holds: no walk over entries. At most `max`
 * entries over all projects; past it the oldest entry of the longest-held project goes first.
 */
export class ProjectScopedCache<V, A = never> {
  #projects = new Map<string, FnvMap<V, A>>();
  #size = 0;
  #removals = 0;
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
    return this.entry(pk, id)?.value;
  }

  /** The entry of a record: its value and what the reader keeps beside it. */
  entry(pk: string, id: string): CacheEntry<V, A> | undefined {
    const e = this.#projects.get(pk)?.entry(id);
    if (e === undefined) this.misses++;
    else this.hits++;
    return e;
  }

  set(pk: string, id: string, value: V): void {
    let m = this.#projects.get(pk);
    if (m === undefined || m.get(id) === undefined) {
      if (this.#size >= this.#max) this.#evictOldest();
      m = this.#projects.get(pk); // evicting may have dropped the project
      if (m === undefined) this.#projects.set(pk, m = new FnvMap());
      this.#size++;
    }
    m.set(id, value);
  }

  delete(pk: string, id: string): void {
    this.#removals++;
    const m = this.#projects.get(pk);
    if (m) this.#deleteIn(pk, m, id);
  }

  /**
   * Where the cache stands before a record is read from the store, for `fill` after the read:
   * the count of deletions and drops so far (rare: a record deleted, a project's epoch moved).
   */
  mark(): number {
    return this.#removals;
  }

  /**
   * Caches a record read from the store since `mark`, unless something newer is known: an
   * entry set meanwhile (by the write that changed it, while it was being read), or a deletion
   * or drop meanwhile (the read may be of what was deleted, or from before the epoch moved).
   * Setting it anyway would put back what was read before the change, and keep it until the
   * next one. Answers whether it was cached.
   */
  fill(pk: string, id: string, value: V, mark: number): boolean {
    if (mark !== this.#removals || this.#projects.get(pk)?.entry(id) !== undefined) return false;
    this.set(pk, id, value);
    return true;
  }

  /** Forgets everything held for the project at once (its epoch moved). */
  dropProject(pk: string): void {
    this.#removals++;
    const m = this.#projects.get(pk);
    if (!m) return;
    this.#size -= m.size;
    this.#projects.delete(pk);
  }

  #deleteIn(pk: string, m: FnvMap<V, A>, id: string): void {
    if (!m.delete(id)) return;
    this.#size--;
    if (m.size === 0) this.#projects.delete(pk);
  }

  #evictOldest(): void {
    for (const [pk, m] of this.#projects) {
      for (const [id] of m) return this.#deleteIn(pk, m, id);
    }
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
