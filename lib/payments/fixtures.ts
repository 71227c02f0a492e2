/** Stripe's published fixture objects (MIT): the base shape of every sandbox object and event. */
import data from "@/lib/payments/fixtures/stripe_fixtures.json" with { type: "json" };

type Resource =
  | "account"
  | "account_link"
  | "billing_portal.session"
  | "charge"
  | "checkout.session"
  | "customer"
  | "event"
  | "invoice"
  | "invoiceitem"
  | "price"
  | "product"
  | "refund"
  | "subscription"
  | "subscription_item"
  | "coupon"
  | "promotion_code";

/** A deep copy of Stripe's fixture for `resource`, with `fields` laid over it. */
export function stripeShape<T>(resource: Resource, fields: Record<string, unknown>): T {
  const base = structuredClone((data.resources as Record<string, unknown>)[resource]) as Record<
    string,
    unknown
  >;
  return { ...base, ...fields } as T;
}
