/**
 * The subscription checkout each customer has open: the last one opened for them. Opening a new
 * one makes the one before it expire at the provider (lib/billing/checkout.ts), so a customer
 * with two tabs of checkout can pay only the newest and never ends up with two subscriptions.
 */
import { updateChecked } from "@/lib/kv/_atomic.ts";

export interface OpenCheckout {
  sessionId: string;
  openedAt: number;
}

export const openCheckoutKeys = {
  subscription: (pk: string, customerId: string) =>
    ["open_subscription_checkout", pk, customerId] as const,
};

/** A provider keeps a checkout open at most 24 h; the record outlives that a little. */
const KEEP_MS = 25 * 3600_000;

/**
 * Records `sessionId` as the customer's open subscription checkout. Answers the session it
 * replaces, to be expired: null when there was none or it is this one (a retried request).
 */
export function replaceOpenCheckout(
  kv: Deno.Kv,
  o: { pk: string; customerId: string; sessionId: string; now: number },
): Promise<string | null> {
  return updateChecked<OpenCheckout, string | null>(
    kv,
    openCheckoutKeys.subscription(o.pk, o.customerId),
    {
      what: "record the open checkout",
      change: (cur) =>
        cur?.sessionId === o.sessionId
          ? { result: null }
          : { next: { sessionId: o.sessionId, openedAt: o.now }, result: cur?.sessionId ?? null },
      expireIn: KEEP_MS,
    },
  );
}

/** Forgets the customer's open subscription checkout (the customer is deleted): answers it. */
export async function takeOpenCheckout(
  kv: Deno.Kv,
  o: { pk: string; customerId: string },
): Promise<string | null> {
  const key = openCheckoutKeys.subscription(o.pk, o.customerId);
  const cur = await kv.get<OpenCheckout>(key);
  if (!cur.value) return null;
  await kv.delete(key);
  return cur.value.sessionId;
}
