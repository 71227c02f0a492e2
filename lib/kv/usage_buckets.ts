/**
 * Usage tally buckets: what folds added to the counts, many customers to a value. A customer's
 * tallies (one per period) live in the bucket its id hashes to, as `customer \0 period → count`,
 * so a fold rewrites the buckets its window touches (64 at most): one write per bucket rather
 * than one KvU64 sum per customer. A bucket holds at most `BUCKET_BYTES`; a key that doesn't
 * fit, and entries of periods that started more than `BUCKET_KEEP_MS` ago (moved out by a fold
 * that rewrites their bucket), are per-key KvU64 tallies instead (`usageKeys.tally`). A count is
 * counter + tally + bucket entry. Buckets change only in commits checked on the fold watermark
 * (folds and usage resets), so two writers never rewrite one from the same old value.
 */

import { fnv1a } from "@/lib/ids.ts";

export const BUCKETS = 64;
/** At most this many bytes of entries in a bucket (Deno KV's values hold 64 KiB). */
export const BUCKET_BYTES = 8 * 1024;
/** Entries of periods that started longer ago than this move to per-key tallies. */
export const BUCKET_KEEP_MS = 32 * 86_400_000;

/** A bucket's entries: `customer \0 period start` → what folds added. */
export type Bucket = Record<string, number>;

export const bucketKeys = {
  bucket: (pk: string, b: number) => ["usage_bucket", pk, b] as const,
};

/** The bucket of a customer's tallies (FNV-1a of the id). */
export function bucketOf(customerId: string): number {
  return fnv1a(customerId) % BUCKETS;
}

/** A (customer, period) key: of a bucket entry, and of a count the meter holds. */
export const countKey = (customerId: string, periodStart: string) =>
  `${customerId}\u0000${periodStart}`;

// the last count key made for each customer: customer → [period start, key]
const recentCountKeys = new Map<string, [string, string]>();

/**
 * `countKey`, as the same string object again for a customer's latest period. The meter reads
 * its maps with it on every call, and V8 reads a large Map far faster with a key string it has
 * seen than with a freshly built one (see `ProjectScopedCache`).
 */
export function recentCountKey(customerId: string, periodStart: string): string {
  const hit = recentCountKeys.get(customerId);
  if (hit !== undefined && hit[0] === periodStart) return hit[1];
  if (recentCountKeys.size >= 200_000) recentCountKeys.clear();
  const key = countKey(customerId, periodStart);
  recentCountKeys.set(customerId, [periodStart, key]);
  return key;
}

/** The customer and period start of a `countKey`. */
export function parseCountKey(key: string): { customerId: string; periodStart: string } {
  const at = key.indexOf("\u0000");
  return { customerId: key.slice(0, at), periodStart: key.slice(at + 1) };
}

/** About the bytes an entry takes in the stored value (the key, its tag and the number). */
const entryBytes = (key: string) => key.length + 12;

export const bucketBytes = (b: Bucket) => Object.keys(b).reduce((n, k) => n + entryBytes(k), 0);

/** What a fold adds to one (customer, period) key. */
export type TallySum = { customerId: string; periodStart: string; q: number };

/**
 * Where a fold's sums go, given the current value of every bucket they touch (changed in place:
 * the caller read them for this): into the bucket entry (added, or new while the bucket has
 * room) or, when it is full, to a per-key tally. Then entries of old periods in those buckets
 * move to per-key tallies, at most `maxMoves`. Answers the buckets to write, the tallies to sum
 * and how many of those were moves.
 */
export function planBuckets(
  buckets: Map<number, Bucket>,
  sums: Iterable<TallySum>,
  o: { now: number; maxBytes: number; maxMoves: number },
): { buckets: Map<number, Bucket>; tallies: TallySum[]; moved: number } {
  const changed = new Map<number, Bucket>();
  const sizes = new Map<number, number>(); // measured when a new entry first needs room
  const tallies: TallySum[] = [];
  for (const t of sums) {
    const b = bucketOf(t.customerId);
    let v = buckets.get(b);
    if (!v) buckets.set(b, v = {});
    changed.set(b, v);
    const k = countKey(t.customerId, t.periodStart);
    const had = v[k];
    if (had !== undefined) {
      v[k] = had + t.q;
      continue;
    }
    const size = sizes.get(b) ?? bucketBytes(v);
    if (size + entryBytes(k) <= o.maxBytes) {
      v[k] = t.q;
      sizes.set(b, size + entryBytes(k));
    } else {
      sizes.set(b, size);
      tallies.push(t);
    }
  }
  let moves = 0;
  const cutoff = o.now - BUCKET_KEEP_MS;
  // whether a period is old, by its start (a handful of distinct periods among the entries)
  const old = new Map<string, boolean>();
  for (const v of changed.values()) {
    if (moves >= o.maxMoves) break;
    for (const k in v) {
      const periodStart = k.slice(k.indexOf("\u0000") + 1);
      let moving = old.get(periodStart);
      if (moving === undefined) old.set(periodStart, moving = Date.parse(periodStart) < cutoff);
      if (!moving) continue;
      tallies.push({ customerId: parseCountKey(k).customerId, periodStart, q: v[k]! });
      delete v[k];
      if (++moves >= o.maxMoves) break;
    }
  }
  return { buckets: changed, tallies, moved: moves };
}
