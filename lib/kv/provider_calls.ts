/**
 * Provider calls with our own idempotency key, saved in KV before the call: a crash and retry
 * of the same logical operation sends the same key, so the provider never makes a second object.
 */
import { randomBase62 } from "@/lib/ids.ts";

export interface ProviderCall {
  idempotencyKey: string;
  result: string | null;
  createdAt: number;
}

export const providerCallKeys = {
  byScope: (scope: string) => ["provider_calls", scope] as const,
};

const TTL_MS = 23 * 3600_000; // Stripe keeps idempotency keys for 24 h

/**
 * Runs `call(key)` once per `scope` (a string naming the logical operation): the key is stored
 * first, the result (an object id) after. A later run of the same scope returns the stored
 * result, or retries with the same key when the first run died before finishing.
 */
export async function onceWithKey(
  kv: Deno.Kv,
  scope: string,
  now: number,
  call: (idempotencyKey: string) => Promise<string>,
): Promise<string> {
  const key = providerCallKeys.byScope(scope);
  let cur = (await kv.get<ProviderCall>(key)).value;
  if (cur?.result) return cur.result;
  if (!cur) {
    const fresh: ProviderCall = {
      idempotencyKey: `dream_${randomBase62(24)}`,
      result: null,
      createdAt: now,
    };
    const res = await kv.atomic().check({ key, versionstamp: null }).set(key, fresh, {
      expireIn: TTL_MS,
    }).commit();
    cur = res.ok ? fresh : (await kv.get<ProviderCall>(key)).value!;
  }
  const result = await call(cur.idempotencyKey);
  await kv.set(key, { ...cur, result }, { expireIn: TTL_MS });
  return result;
}
