/**
 * The usage meter: exact, durable counting with group commit.
 *
 * Every `track()` call joins a queue; one drain loop takes as many queued calls as fit in one
 * Deno KV commit (at most 100 checked keys: counters plus new idempotency keys), decides each call
 * in arrival order against the counter values it holds, and commits all accepted increments in
 * one atomic operation that checks the counters' versionstamps. Callers are answered only after
 * that commit is durable, so an acknowledged count is never lost. A lost race (another instance
 * wrote a counter) drops the cached values and decides the batch again, so no limit is ever
 * passed even with several instances on one KV. Counter values and versionstamps are cached after
 * each commit, so a steady stream of calls reads no KV at all. A refusal is decided only on a
 * value read or committed less than `ttlMs` ago: counts only grow within a period, so such a
 * value can only be low; a counter removed elsewhere (a deleted customer) is seen within `ttlMs`.
 */
import { ConflictError } from "@/lib/errors.ts";
import { idempotencyKeys, type IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import { commitUsageBatch, readCounter, readUsageKeys, usageKeys } from "@/lib/kv/usage.ts";
import type { Period } from "@/lib/period.ts";

export interface UsageView {
  count: number;
  limit: number | null;
  remaining: number | null;
  plan: string;
  periodStart: string;
  periodEnd: string;
}

export interface TrackRequest {
  pk: string;
  customerId: string;
  plan: string;
  period: Period;
  limit: number | null;
  quantity: number;
  idempotency?: { key: string; fingerprint: string };
}

export type TrackOutcome =
  | { kind: "counted"; usage: UsageView }
  | { kind: "limited"; usage: UsageView }
  | { kind: "replayed"; record: IdempotencyRecord }
  | { kind: "idempotency_conflict" };

interface Pending {
  req: TrackRequest;
  counterKey: Deno.KvKey;
  ck: string;
  idemKey: Deno.KvKey | null;
  ik: string | null;
  resolve: (o: TrackOutcome) => void;
  reject: (e: unknown) => void;
}

interface CounterState {
  value: number;
  versionstamp: string | null;
  /** When this instance last committed or read it (ms). */
  at: number;
}

// Deno KV allows 100 checks and 1000 mutations per atomic operation (locally and on Deploy).
const MAX_CHECKS = 100;
const MAX_OPS = 512;
const MAX_ATTEMPTS = 25;
const MAX_CACHED = 200_000;

/** Builds the usage object answered by the usage endpoints. */
export function usageView(
  req: Pick<TrackRequest, "plan" | "period" | "limit">,
  count: number,
): UsageView {
  return {
    count,
    limit: req.limit,
    remaining: req.limit === null ? null : Math.max(0, req.limit - count),
    plan: req.plan,
    periodStart: req.period.start,
    periodEnd: req.period.end,
  };
}

// JSON of strings seen lately (plan names, period bounds): a handful per project
const jsonStrings = new Map<string, string>();
function jsonString(v: string): string {
  let j = jsonStrings.get(v);
  if (j === undefined) {
    if (jsonStrings.size > 10_000) jsonStrings.clear();
    j = JSON.stringify(v);
    jsonStrings.set(v, j);
  }
  return j;
}

/**
 * `JSON.stringify(usage)`, the same bytes, built from a template: the hot path answers with it
 * at tens of thousands of requests per second, where the generic walk costs measurably more.
 */
export function usageJson(u: UsageView): string {
  return `{"count":${u.count},"limit":${u.limit},"remaining":${u.remaining},"plan":${
    jsonString(u.plan)
  },"periodStart":${jsonString(u.periodStart)},"periodEnd":${jsonString(u.periodEnd)}}`;
}

/** The in-memory key of one counter (cheaper than serialising the KV key). */
function counterCacheKey(pk: string, customerId: string, periodStart: string): string {
  return `${pk}\u0000${customerId}\u0000${periodStart}`;
}

export class UsageMeter {
  #kv: Deno.Kv;
  #now: () => number;
  #cache = new Map<string, CounterState>();
  #queue: Pending[] = [];
  #draining = false;
  /** Commits made, for tests and the benchmark. */
  commits = 0;

  #ttlMs: number;

  /** `ttlMs`: how old a cached count `peek()` may answer with (other instances' increments). */
  constructor(kv: Deno.Kv, now: () => number, ttlMs = 0) {
    this.#kv = kv;
    this.#now = now;
    this.#ttlMs = ttlMs;
  }

  /** Counts `quantity` for a customer unless it would pass the limit; resolves after commit. */
  track(req: TrackRequest): Promise<TrackOutcome> {
    const counterKey = usageKeys.counter(req.pk, req.customerId, req.period.start);
    const idemKey = req.idempotency ? idempotencyKeys.byKey(req.pk, req.idempotency.key) : null;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        req,
        counterKey,
        ck: counterCacheKey(req.pk, req.customerId, req.period.start),
        idemKey,
        ik: idemKey ? JSON.stringify(idemKey) : null,
        resolve,
        reject,
      });
      if (!this.#draining) this.#drain();
    });
  }

  /** The cached count when younger than `ttlMs` (no KV read, synchronous), else undefined. */
  peekCached(pk: string, customerId: string, period: Period): number | undefined {
    const cached = this.#cache.get(counterCacheKey(pk, customerId, period.start));
    return cached && this.#now() - cached.at < this.#ttlMs ? cached.value : undefined;
  }

  /**
   * The current count of a customer's period. This instance's own commits are always in the
   * cache; a value younger than `ttlMs` is answered without a KV read (another instance's
   * increments show within that time), otherwise one read refreshes it.
   */
  async peek(pk: string, customerId: string, period: Period): Promise<number> {
    const hit = this.peekCached(pk, customerId, period);
    if (hit !== undefined) return hit;
    const key = usageKeys.counter(pk, customerId, period.start);
    const ck = counterCacheKey(pk, customerId, period.start);
    const now = this.#now();
    const got = await readCounter(this.#kv, key);
    const value = got.value;
    const after = this.#cache.get(ck);
    if (!after || (after.versionstamp ?? "") <= (got.versionstamp ?? "")) {
      this.#cache.set(ck, { value, versionstamp: got.versionstamp, at: now });
    }
    return value;
  }

  /** Drops cached counters of a customer (after deletion), so nothing stale is reused. */
  forgetCustomer(pk: string, customerId: string): void {
    const prefix = `${pk}\u0000${customerId}\u0000`;
    for (const k of this.#cache.keys()) if (k.startsWith(prefix)) this.#cache.delete(k);
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#take();
        try {
          await this.#decideAndCommit(batch);
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #take(): Pending[] {
    const keys = new Set<string>();
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    for (const p of this.#queue) {
      const need = [p.ck, p.ik].filter((k): k is string => k !== null && !keys.has(k));
      if (batch.length < MAX_OPS && keys.size + need.length <= MAX_CHECKS) {
        for (const k of need) keys.add(k);
        batch.push(p);
      } else {
        rest.push(p);
      }
    }
    this.#queue = rest;
    return batch;
  }

  async #decideAndCommit(batch: Pending[]): Promise<void> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const decided = await this.#decide(batch);
      if (decided === "stale") continue;
      const { outcomes, counters, claims, perProject } = decided;
      const dirty = [...counters.entries()].filter(([, c]) => c.dirty);
      if (dirty.length === 0) {
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
        return;
      }
      const now = this.#now();
      const versionstamp = await commitUsageBatch(this.#kv, {
        counters: dirty.map(([, c]) => c),
        claims: [...claims.values()],
        perProject,
        now,
      });
      this.commits++;
      if (versionstamp !== null) {
        if (this.#cache.size > MAX_CACHED) this.#cache.clear();
        for (const [ck, c] of dirty) {
          this.#cache.set(ck, { value: c.value, versionstamp, at: now });
        }
        batch.forEach((p, i) => p.resolve(outcomes[i]!));
        return;
      }
      for (const p of batch) this.#cache.delete(p.ck);
    }
    throw new ConflictError("Cannot count usage: too many concurrent changes, try again");
  }

  async #decide(batch: Pending[]) {
    const counters = new Map<
      string,
      {
        key: Deno.KvKey;
        value: number;
        versionstamp: string | null;
        fresh: boolean;
        dirty: boolean;
      }
    >();
    const toRead: Pending[] = [];
    // What the batch asks of each counter, to see which cached values might lead to a refusal.
    const demand = new Map<string, { qty: number; limit: number }>();
    for (const p of batch) {
      const d = demand.get(p.ck) ?? { qty: 0, limit: Infinity };
      d.qty += p.req.quantity;
      if (p.req.limit !== null) d.limit = Math.min(d.limit, p.req.limit);
      demand.set(p.ck, d);
    }
    for (const p of batch) {
      if (counters.has(p.ck)) continue;
      const cached = this.#cache.get(p.ck);
      // a value this young may decide a refusal (counts only grow within a period); an older
      // one is read again first when this batch could hit the limit with it
      const young = cached !== undefined && this.#now() - cached.at < this.#ttlMs;
      const d = demand.get(p.ck)!;
      if (cached && (young || cached.value + d.qty <= d.limit)) {
        counters.set(p.ck, { key: p.counterKey, ...cached, fresh: young, dirty: false });
      } else {
        counters.set(p.ck, {
          key: p.counterKey,
          value: 0,
          versionstamp: null,
          fresh: true,
          dirty: false,
        });
        toRead.push(p);
      }
    }
    const idemKeys = [
      ...new Map(batch.filter((p) => p.ik).map((p) => [p.ik!, p.idemKey!])).entries(),
    ];
    const reads = await readUsageKeys(this.#kv, [
      ...toRead.map((p) => p.counterKey),
      ...idemKeys.map(([, k]) => k),
    ]);
    const readAt = this.#now();
    toRead.forEach((p, i) => {
      const e = reads[i]!;
      const c = counters.get(p.ck)!;
      c.value = typeof e.value === "number" ? e.value : 0;
      c.versionstamp = e.versionstamp;
      this.#cache.set(p.ck, { value: c.value, versionstamp: c.versionstamp, at: readAt });
    });
    const existing = new Map<string, IdempotencyRecord | null>();
    idemKeys.forEach(([ik], i) => {
      existing.set(ik, (reads[toRead.length + i]!.value as IdempotencyRecord | null) ?? null);
    });

    const outcomes: TrackOutcome[] = [];
    const claims = new Map<string, { key: Deno.KvKey; record: IdempotencyRecord }>();
    const perProject = new Map<string, number>();
    for (const p of batch) {
      const idem = p.req.idempotency;
      if (idem && p.ik) {
        const prior = existing.get(p.ik) ?? claims.get(p.ik)?.record ?? null;
        if (prior) {
          outcomes.push(
            prior.fingerprint === idem.fingerprint
              ? { kind: "replayed", record: prior }
              : { kind: "idempotency_conflict" },
          );
          continue;
        }
      }
      const c = counters.get(p.ck)!;
      const { quantity, limit } = p.req;
      if (limit !== null && c.value + quantity > limit) {
        if (!c.fresh) {
          this.#cache.delete(p.ck);
          return "stale" as const;
        }
        outcomes.push({ kind: "limited", usage: usageView(p.req, c.value) });
        continue;
      }
      c.value += quantity;
      c.dirty = true;
      perProject.set(p.req.pk, (perProject.get(p.req.pk) ?? 0) + quantity);
      const usage = usageView(p.req, c.value);
      outcomes.push({ kind: "counted", usage });
      if (idem && p.ik) {
        claims.set(p.ik, {
          key: p.idemKey!,
          record: {
            fingerprint: idem.fingerprint,
            status: 200,
            body: { success: true, usage },
            createdAt: this.#now(),
          },
        });
      }
    }
    return { outcomes, counters, claims, perProject };
  }
}
