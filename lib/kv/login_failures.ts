/** Password checks per account (by email hash), counted before they are made, per window. */

export interface LoginFailures {
  /** Checks counted in this window: failures, and checks still under way. */
  count: number;
  firstAt: number;
}

export const loginFailureKeys = {
  byEmailHash: (hash: string) => ["login_failures", hash] as const,
};

/**
 * Counts one password check for the account before it is made, so concurrent attempts can't
 * all slip under the limit: null when it may go ahead, else the milliseconds until the window
 * ends. Versionstamp-checked; when the count can't be written after retries the check is
 * refused too (never made uncounted).
 */
export async function reserveLoginCheck(
  kv: Deno.Kv,
  hash: string,
  o: { now: number; windowMs: number; max: number },
): Promise<number | null> {
  for (let i = 0; i < 20; i++) {
    const cur = await kv.get<LoginFailures>(loginFailureKeys.byEmailHash(hash));
    const live = cur.value && o.now - cur.value.firstAt < o.windowMs ? cur.value : null;
    if (live && live.count >= o.max) return live.firstAt + o.windowMs - o.now;
    const next = live ? { ...live, count: live.count + 1 } : { count: 1, firstAt: o.now };
    const res = await kv.atomic().check(cur).set(cur.key, next, { expireIn: o.windowMs }).commit();
    if (res.ok) return null;
  }
  return o.windowMs;
}

/** A successful sign-in starts the account's count afresh. */
export async function clearLoginFailures(kv: Deno.Kv, hash: string): Promise<void> {
  await kv.delete(loginFailureKeys.byEmailHash(hash));
}
