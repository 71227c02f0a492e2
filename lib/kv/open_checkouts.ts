/**
 * The subscription checkout each customer has open: the last one opened for them. Opening a new
 * one makes the one before it expire at the provider (lib/billing/checkout.ts), so a customer
 * with two tabs of checkout can pay only the newest and never ends up with two subscriptions.
 */
import { updateChecked } from "@/lib/kv/_atomic.ts";

export interface OpenCheckout {
  sessionId: string;
  openedAt: number;
  /** The tier it sells (records from before it was kept have none). */
  tierId?: string;
}

export const openCheckoutKeys = {
  subscription: (pk: string, customerId: string) =>
    ["open_subscription_checkout", pk, customerId] as const,
  project: (pk: string) => ["open_subscription_checkout", pk] as const,
};

/** A provider keeps a checkout open at most 24 h; the record outlives that a little. */
const KEEP_MS = 25 * 3600_000;

/**
 * Records `sessionId` as the customer's open subscription checkout. Answers the session it
 * replaces, to be expired: null when there was none or it is this one (a retried request).
 */
export function replaceOpenCheckout(
  kv: Deno.Kv,
  o: { pk: string; customerId: string; sessionId: string; tierId: string; now: number },
): Promise<string | null> {
  return updateChecked<OpenCheckout, string | null>(
    kv,
    openCheckoutKeys.subscription(o.pk, o.customerId),
    {
      what: "record the open checkout",
      change: (cur) =>
        cur?.sessionId === o.sessionId ? { result: null } : {
          next: { sessionId: o.sessionId, openedAt: o.now, tierId: o.tierId },
          result: cur?.sessionId ?? null,
        },
      expireIn: KEEP_MS,
    },
  );
}

/** Forgets the customer's open subscription checkout (the customer is deleted): answers it. */
export function takeOpenCheckout(
  kv: Deno.Kv,
  o: { pk: string; customerId: string },
): Promise<string | null> {
  // checked like every change of the record: one opened meanwhile is the one taken
  return updateChecked<OpenCheckout, string | null>(
    kv,
    openCheckoutKeys.subscription(o.pk, o.customerId),
    {
      what: "forget the open checkout",
      change: (cur) => cur ? { next: null, result: cur.sessionId } : { result: null },
    },
  );
}

/**
 * Forgets the project's open subscription checkouts, those for tier `tierId` when given (the tier
 * is deleted; else the project is): answers their sessions, to be expired. Lists the checkouts
 * opened in the last day only (each record expires after that); one replaced meanwhile by a newer
 * checkout is left to it.
 */
export async function takeOpenCheckouts(
  kv: Deno.Kv,
  o: { pk: string; tierId?: string },
): Promise<string[]> {
  const taken: string[] = [];
  for await (const e of kv.list<OpenCheckout>({ prefix: openCheckoutKeys.project(o.pk) })) {
    if (o.tierId !== undefined && e.value.tierId !== o.tierId) continue;
    const res = await kv.atomic().check(e).delete(e.key).commit();
    if (res.ok) taken.push(e.value.sessionId);
  }
  return taken;
}
