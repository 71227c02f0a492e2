/** Failed sign-in attempts per email hash, expiring with the throttle window. */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";

export interface LoginFailures {
  count: number;
  firstAt: number;
}

export const loginFailureKeys = {
  byEmailHash: (hash: string) => ["login_failures", hash] as const,
};

export async function getLoginFailures(kv: Deno.Kv, hash: string, now: number, windowMs: number) {
  const v = (await kv.get<LoginFailures>(loginFailureKeys.byEmailHash(hash))).value;
  return v && now - v.firstAt < windowMs ? v : null;
}

/** Counts one more failure within the window (a new window starts when the old one ended). */
export function recordLoginFailure(kv: Deno.Kv, hash: string, now: number, windowMs: number) {
  return retryAtomic("record the failed sign-in", async () => {
    const cur = await kv.get<LoginFailures>(loginFailureKeys.byEmailHash(hash));
    const live = cur.value && now - cur.value.firstAt < windowMs ? cur.value : null;
    const next = live ? { ...live, count: live.count + 1 } : { count: 1, firstAt: now };
    const res = await kv.atomic().check(cur).set(cur.key, next, { expireIn: windowMs }).commit();
    return res.ok ? next : RETRY;
  });
}

export async function clearLoginFailures(kv: Deno.Kv, hash: string): Promise<void> {
  await kv.delete(loginFailureKeys.byEmailHash(hash));
}
