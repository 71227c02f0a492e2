import { fnv1a } from "@/lib/ids.ts";

/** One token bucket; buckets whose keys hash alike are chained. */
interface Bucket {
  key: string;
  tokens: number;
  at: number;
  next: Bucket | null;
}

/**
 * Per-instance token buckets: `rate` requests per window (a second by default), bursts of `rate`.
 * Buckets are found by the FNV-1a of their key (checked against the key): keys are built per
 * request (`cust:<pk>:<customer>`), and V8 looks such a fresh string up in a large Map at several
 * times the cost of a number (see `ProjectScopedCache`).
 */
export class RateLimiter {
  #buckets = new Map<number, Bucket>();
  #size = 0;
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Buckets held (full ones are swept once there are more than 100 000). */
  get size(): number {
    return this.#size;
  }

  /**
   * Takes one token from the bucket `key` refilled at `rate` per `windowMs`. Returns 0 when
   * allowed, else the seconds to wait. A rate of 0 turns the limit off.
   */
  take(key: string, rate: number, windowMs = 1000): number {
    if (rate <= 0) return 0;
    const now = this.#now();
    const h = fnv1a(key);
    let b = this.#buckets.get(h) ?? null;
    while (b !== null && b.key !== key) b = b.next;
    if (b === null) {
      if (this.#size > 100_000) this.#sweep(now, rate, windowMs);
      b = { key, tokens: rate, at: now, next: this.#buckets.get(h) ?? null };
      this.#buckets.set(h, b);
      this.#size++;
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.at) / windowMs) * rate);
    b.at = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return ((1 - b.tokens) / rate) * (windowMs / 1000);
  }

  /** Drops the buckets that are full again (their holders went quiet). */
  #sweep(now: number, rate: number, windowMs: number) {
    const full = (b: Bucket) => b.tokens + ((now - b.at) / windowMs) * rate >= rate;
    for (const [h, head] of this.#buckets) {
      let keep: Bucket | null = null;
      for (let b: Bucket | null = head; b !== null;) {
        const next: Bucket | null = b.next;
        if (full(b)) this.#size--;
        else {
          b.next = keep;
          keep = b;
        }
        b = next;
      }
      if (keep) this.#buckets.set(h, keep);
      else this.#buckets.delete(h);
    }
  }
}
