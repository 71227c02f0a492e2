/** Random identifiers: base62 from crypto.getRandomValues (≥ 128 bits) and ULID-like sortable ids. */

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `n` base62 characters without modulo bias (rejection sampling). 22 chars ≈ 131 bits. */
export function randomBase62(n: number): string {
  let out = "";
  while (out.length < n) {
    const bytes = crypto.getRandomValues(new Uint8Array(n * 2));
    for (const b of bytes) {
      if (b < 248) out += BASE62[b % 62];
      if (out.length === n) break;
    }
  }
  return out;
}

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

let lastTime = -1;
let lastRandom: number[] = [];

/**
 * A ULID-like id: 10 chars of milliseconds then 16 random chars, so lexical order is creation
 * order. Monotonic within this process: ids made in the same millisecond (or under a clock
 * that stands still) increment the random part instead of drawing a new one.
 */
export function ulid(now: number = Date.now()): string {
  let rnd: number[];
  if (now <= lastTime) {
    now = lastTime;
    rnd = [...lastRandom];
    for (let i = rnd.length - 1; i >= 0; i--) {
      if (rnd[i]! < 31) {
        rnd[i]!++;
        break;
      }
      rnd[i] = 0;
    }
  } else {
    rnd = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b % 32);
    rnd[0] = rnd[0]! % 16; // headroom so increments never wrap
  }
  lastTime = now;
  lastRandom = rnd;
  let t = now;
  let time = "";
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + rnd.map((d) => CROCKFORD[d]).join("");
}

export type Mode = "test" | "live";

export const newPlatformId = () => `plt_${randomBase62(22)}`;
export const newPublishableKey = (mode: Mode) => `pk_${mode}_${randomBase62(24)}`;
export const newSecretKey = (mode: Mode) => `sk_${mode}_${randomBase62(32)}`;
export const newAccessToken = () => `dat_${randomBase62(32)}`;
export const newSessionToken = () => randomBase62(40);
export const newCustomerId = () => `cus_${randomBase62(22)}`;
const REQUEST_PREFIX = randomBase62(12);
let requestCounter = 0;
/** Request ids: a random per-process prefix and a counter (unique, cheap; not secret). */
export const newRequestId = () =>
  `req_${REQUEST_PREFIX}${(requestCounter++).toString(36).padStart(6, "0")}`;

export const PK_RE = /^pk_(test|live)_[0-9A-Za-z]{16,64}$/;
export const SK_RE = /^sk_(test|live)_[0-9A-Za-z]{16,64}$/;
export const CUSTOMER_ID_RE = /^[A-Za-z0-9_.:@-]{1,128}$/;

/** FNV-1a (32 bits) of a string: a number to key in-process tables by (and usage buckets). */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
