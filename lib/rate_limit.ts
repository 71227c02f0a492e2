import { FnvMap } from "@/lib/cache.ts";

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Per-instance token buckets: `rate` requests per window (a second by default), bursts of `rate`.
 * Buckets are kept in an `FnvMap`: their keys are built per request (`cust:<pk>:<customer>`).
 */
export class RateLimiter {
  #buckets = new FnvMap<Bucket>();
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** Buckets held (full ones are swept once there are more than 100 000). */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from the bucket `key` refilled at `rate` per `windowMs`. Returns 0 when
   * allowed, else the seconds to wait. A rate of 0 turns the limit off.
   */
  take(key: string, rate: number, windowMs = 1000): number {
    if (rate <= 0) return 0;
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size > 100_000) this.#sweep(now, rate, windowMs);
      b = { tokens: rate, at: now };
      this.#buckets.set(key, b);
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
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / windowMs) * rate >= rate) this.#buckets.delete(k);
    }
  }
}
