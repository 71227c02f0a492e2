/**
 * Provider calls with our own idempotency key, saved in KV before the call: a crash and retry
 * of the same logical operation sends the same key, so the provider never makes a second object.
 */
import { randomBase62 } from "@/lib/ids.ts";
import { ConflictError } from "@/lib/errors.ts";

export interface ProviderCall {
  idempotencyKey: string;
  result: string | null;
  createdAt: number;
  /** What the caller asked, when the scope is keyed by the caller's own Idempotency-Key. */
  fingerprint?: string;
}

export const providerCallKeys = {
  byScope: (scope: string) => ["provider_calls", scope] as const,
};

const TTL_MS = 23 * 3600_000; // Stripe keeps idempotency keys for 24 h

/**
 * Runs `call(key)` once per `scope` (a string naming the logical operation): the key is stored
 * first, the object's id after. A later run of the same scope answers the stored id (`fresh`
 * null), or retries with the same key when the first run died before finishing; the run that
 * called the provider also answers what it got (`fresh`).
 */
export async function onceWithResult<T>(
  kv: Deno.Kv,
  o: {
    scope: string;
    now: number;
    call: (idempotencyKey: string) => Promise<T>;
    idOf: (t: T) => string;
    /**
     * What is asked, for a scope named by a caller's Idempotency-Key: the same key with another
     * request is 409, as Stripe answers it.
     */
    fingerprint?: string;
  },
): Promise<{ id: string; fresh: T | null }> {
  const key = providerCallKeys.byScope(o.scope);
  let cur = (await kv.get<ProviderCall>(key)).value;
  if (!cur) {
    const created: ProviderCall = {
      idempotencyKey: `dream_${randomBase62(24)}`,
      result: null,
      createdAt: o.now,
      ...(o.fingerprint !== undefined ? { fingerprint: o.fingerprint } : {}),
    };
    const res = await kv.atomic().check({ key, versionstamp: null }).set(key, created, {
      expireIn: TTL_MS,
    }).commit();
    cur = res.ok ? created : (await kv.get<ProviderCall>(key)).value!;
  }
  if (cur.fingerprint !== undefined && cur.fingerprint !== o.fingerprint) {
    throw new ConflictError(
      "This Idempotency-Key was already used with another request; use a new key for a new request",
    );
  }
  if (cur.result) return { id: cur.result, fresh: null };
  const fresh = await o.call(cur.idempotencyKey);
  const id = o.idOf(fresh);
  await kv.set(key, { ...cur, result: id }, { expireIn: TTL_MS });
  return { id, fresh };
}

/** `onceWithResult` for calls that answer the object's id. */
export async function onceWithKey(
  kv: Deno.Kv,
  o: { scope: string; now: number; call: (idempotencyKey: string) => Promise<string> },
): Promise<string> {
  return (await onceWithResult(kv, { ...o, idOf: (id) => id })).id;
}
