/** Per-instance token buckets: `rate` requests per window (a second by default), bursts of `rate`. */
export class RateLimiter {
  #buckets = new Map<string, { tokens: number; at: number }>();
  #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
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

  #sweep(now: number, rate: number, windowMs: number) {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / windowMs) * rate >= rate) this.#buckets.delete(k);
    }
  }
}
