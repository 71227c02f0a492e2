/**
 * A cart checkout's `Idempotency-Key`, as Stripe treats one: the same key with the same request
 * answers the first checkout again (no second hold); with another request it is 409; while the
 * first request is still under way, 409 too (retry shortly). A request that failed frees its
 * key, so a retry tries again.
 */
import { ConflictError } from "@/lib/errors.ts";
import type { CartAnswer, CartKey } from "@/lib/kv/cart_keys.ts";
import type { Reservation } from "@/lib/kv/reservations.ts";

/** What makes two cart requests the same one: its items in order, URLs, buyer and code. */
export function cartFingerprint(input: {
  items: { priceId?: string | undefined; productId?: string | undefined; quantity: number }[];
  successUrl: string;
  cancelUrl: string;
  email?: string | undefined;
  name?: string | undefined;
  promotionCode?: string | undefined;
}): string {
  return JSON.stringify([
    input.items.map((i) => [i.priceId ?? null, i.productId ?? null, i.quantity]),
    input.successUrl,
    input.cancelUrl,
    input.email ?? null,
    input.name ?? null,
    input.promotionCode ?? null,
  ]);
}

/** The claim a new hold writes for its key. */
export function cartKeyFor(fingerprint: string) {
  return (r: Reservation): CartKey => ({ fingerprint, reservationId: r.id, answer: null });
}

/** The first checkout's answer for a key already taken by `fingerprint`'s request, or 409. */
export function replayedCart(taken: CartKey, fingerprint: string): CartAnswer {
  if (taken.fingerprint !== fingerprint) {
    throw new ConflictError(
      "This Idempotency-Key was used with another cart request; use a new key for a new checkout",
    );
  }
  if (!taken.answer) {
    throw new ConflictError(
      "A cart request with this Idempotency-Key is still being processed; retry shortly",
    );
  }
  return taken.answer;
}
