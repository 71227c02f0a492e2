/**
 * Idempotency-Keys of cart checkouts: the hold a key made (claimed in the hold's own commit, so
 * two requests with one key never hold stock twice) and, once its checkout exists, what it
 * answered. Kept 24 hours, as Stripe keeps its keys.
 */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";

export interface CartAnswer {
  url: string;
  sessionId: string;
  reservationId: string;
  expiresAt: string;
}

export interface CartKey {
  /** The request the key was first used with (its items, URLs, email, name and code). */
  fingerprint: string;
  reservationId: string;
  /** Null while the first request is under way. */
  answer: CartAnswer | null;
}

export const CART_KEY_TTL_MS = 24 * 3_600_000;

export const cartKeyKeys = {
  byKey: (pk: string, key: string) => ["cart_keys", pk, key] as const,
};

/** Records what the key's request answered (nothing when the key is gone or another hold's). */
export function answerCartKey(
  kv: Deno.Kv,
  o: { pk: string; key: string; answer: CartAnswer },
): Promise<void> {
  const ref = { ...o, reservationId: o.answer.reservationId };
  return changeCartKey(kv, ref, "record the cart's answer", (k) => ({ ...k, answer: o.answer }));
}

/** Frees a key whose request failed (its hold given back), so that a retry may try again. */
export function dropCartKey(
  kv: Deno.Kv,
  o: { pk: string; key: string; reservationId: string },
): Promise<void> {
  return changeCartKey(kv, o, "free the cart's key", () => null);
}

/** A checked change of a key still held by `reservationId`: its next value, or null to delete. */
function changeCartKey(
  kv: Deno.Kv,
  o: { pk: string; key: string; reservationId: string },
  what: string,
  change: (k: CartKey) => CartKey | null,
): Promise<void> {
  return retryAtomic(what, async () => {
    const cur = await kv.get<CartKey>(cartKeyKeys.byKey(o.pk, o.key));
    if (!cur.value || cur.value.reservationId !== o.reservationId) return undefined;
    const next = change(cur.value);
    const op = kv.atomic().check(cur);
    const res = await (next === null
      ? op.delete(cur.key)
      : op.set(cur.key, next, { expireIn: CART_KEY_TTL_MS })).commit();
    return res.ok ? undefined : RETRY;
  });
}
