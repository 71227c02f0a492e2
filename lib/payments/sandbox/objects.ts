/**
 * The sandbox's Stripe-shaped objects, built from Stripe's published fixtures: products,
 * prices, checkout sessions, subscriptions, invoices, customers. Pure factories.
 */
import type {
  CheckoutRequest,
  StripeCheckoutSession,
  StripeEvent,
  StripePrice,
  StripeSubscription,
} from "@/lib/payments/provider.ts";
import { stripeShape } from "@/lib/payments/fixtures.ts";
import { randomBase62 } from "@/lib/ids.ts";

/** Sandbox-only fields kept beside a checkout session. */
export interface SandboxSession extends StripeCheckoutSession {
  account: string | null;
  line_items_expanded: { price: StripePrice; quantity: number; productName: string }[];
  subscription_metadata: Record<string, string>;
  /** Subscription mode: free days before the first charge (0: none). */
  trial_days?: number;
}

export interface SandboxPortal {
  id: string;
  account: string | null;
  customer: string;
  return_url: string;
}

export const sec = (ms: number) => Math.floor(ms / 1000);

/** A new object id with Stripe's prefix. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBase62(24)}`;
}

/** A session as the provider answers it (without the sandbox's own fields). */
export function publicSession(s: SandboxSession): StripeCheckoutSession {
  const {
    account: _a,
    line_items_expanded: _l,
    subscription_metadata: _m,
    trial_days: _t,
    ...rest
  } = s;
  return rest;
}

export function productObject(
  o: { id: string; name: string; description: string | null; images: string[] },
  meta: { metadata: Record<string, string>; live: boolean; now: number },
) {
  return stripeShape("product", {
    ...o,
    metadata: meta.metadata,
    active: true,
    default_price: null,
    created: sec(meta.now),
    updated: sec(meta.now),
    livemode: meta.live,
    package_dimensions: null,
  });
}

export function priceObject(
  o: {
    id: string;
    product: string;
    unitAmount: number;
    currency: string;
    interval: "month" | "year" | null;
    metadata: Record<string, string>;
  },
  meta: { live: boolean; now: number },
): StripePrice {
  return stripeShape<StripePrice>("price", {
    id: o.id,
    product: o.product,
    unit_amount: o.unitAmount,
    unit_amount_decimal: String(o.unitAmount),
    currency: o.currency,
    active: true,
    type: o.interval ? "recurring" : "one_time",
    recurring: o.interval
      ? {
        interval: o.interval,
        interval_count: 1,
        meter: null,
        usage_type: "licensed",
        trial_period_days: null,
      }
      : null,
    metadata: o.metadata,
    livemode: meta.live,
    created: sec(meta.now),
    transform_quantity: null,
  });
}

/** An open checkout session for `items` (prices already checked active). */
export function sessionObject(
  o: CheckoutRequest & { id: string; account: string | null; live: boolean; now: number },
  items: SandboxSession["line_items_expanded"],
): SandboxSession {
  const trialDays = o.mode === "subscription" ? o.trialDays ?? 0 : 0;
  // with a trial nothing is due today (Stripe's Checkout shows the same)
  const total = trialDays > 0
    ? 0
    // metered items (quantity 0) are billed in arrears, nothing of them today
    : items.reduce((sum, li) => sum + (li.price.unit_amount ?? 0) * li.quantity, 0);
  return stripeShape<SandboxSession>("checkout.session", {
    id: o.id,
    mode: o.mode,
    status: "open",
    payment_status: "unpaid",
    customer: o.customer ?? null,
    customer_email: o.customerEmail ?? null,
    customer_details: null,
    client_reference_id: o.clientReferenceId ?? null,
    subscription: null,
    payment_intent: null,
    metadata: o.metadata,
    amount_subtotal: total,
    amount_total: total,
    currency: items.at(-1)?.price.currency ?? null,
    success_url: o.successUrl,
    cancel_url: o.cancelUrl,
    created: sec(o.now),
    expires_at: o.expiresAt ?? sec(o.now) + 24 * 3600,
    livemode: o.live,
    url: `${o.origin}/sandbox/checkout/${o.id}`,
    shipping_cost: null,
    shipping_address_collection: null,
    account: o.account,
    line_items_expanded: items,
    subscription_metadata: o.subscriptionMetadata ?? {},
    trial_days: trialDays,
    automatic_tax: { enabled: o.automaticTax ?? false, status: null, liability: null },
  });
}

/** An active subscription on one price for `start`..`end` (epoch seconds). */
export function subscriptionObject(
  o: {
    id: string;
    customer: string;
    price: StripePrice;
    metadata: Record<string, string>;
    /** Stripe's test payment method the buyer gave (`pm_card_visa`, `pm_card_chargeCustomerFail`). */
    paymentMethod?: string;
    /** The period is a free trial ending at `period.end`. */
    trial?: boolean;
    /** More items: metered prices (usage billed at period end, no quantity). */
    extra?: StripePrice[];
  },
  period: { start: number; end: number },
): StripeSubscription {
  const item = stripeShape<StripeSubscription["items"]["data"][number]>("subscription_item", {
    id: newId("si"),
    price: o.price,
    quantity: 1,
    subscription: o.id,
    created: period.start,
    current_period_start: period.start,
    current_period_end: period.end,
    plan: null,
  });
  return stripeShape<StripeSubscription>("subscription", {
    id: o.id,
    customer: o.customer,
    status: o.trial ? "trialing" : "active",
    trial_start: o.trial ? period.start : null,
    trial_end: o.trial ? period.end : null,
    default_payment_method: o.paymentMethod ?? "pm_card_visa",
    cancel_at_period_end: false,
    cancel_at: null,
    canceled_at: null,
    ended_at: null,
    created: period.start,
    start_date: period.start,
    billing_cycle_anchor: period.start,
    billing_cycle_anchor_config: null,
    currency: o.price.currency,
    metadata: o.metadata,
    livemode: false,
    latest_invoice: null,
    items: {
      object: "list",
      data: [
        item,
        ...(o.extra ?? []).map((price) =>
          stripeShape<StripeSubscription["items"]["data"][number]>("subscription_item", {
            id: newId("si"),
            price,
            subscription: o.id,
            created: period.start,
            current_period_start: period.start,
            current_period_end: period.end,
            plan: null,
            quantity: undefined,
          })
        ),
      ],
      has_more: false,
      url: `/v1/subscription_items?subscription=${o.id}`,
    },
  });
}

/** The invoice of a subscription's current period, paid or open. */
export function invoiceObject(
  sub: StripeSubscription,
  o: {
    paid: boolean;
    now: number;
    reason?: string;
    /** "draft": the renewal invoice Stripe drafts at a period's end (`invoice.created`). */
    draft?: boolean;
    /** Lines billed in arrears (usage of the ended period), added to the period's fee. */
    extraLines?: Record<string, unknown>[];
    /** The invoice's period (default: the item's current one). */
    period?: { start: number; end: number };
  },
) {
  const item = sub.items.data[0]!;
  // a trial's first invoice is for nothing (Stripe sends one of 0)
  const fee = sub.status === "trialing" ? 0 : (item.price.unit_amount ?? 0) * (item.quantity ?? 1);
  const extra = o.extraLines ?? [];
  const amount = fee + extra.reduce((sum, l) => sum + (l.amount as number), 0);
  const period = o.period ?? { start: item.current_period_start!, end: item.current_period_end! };
  return stripeShape("invoice", {
    id: newId("in"),
    customer: sub.customer,
    subscription: sub.id,
    parent: {
      type: "subscription_details",
      subscription_details: { subscription: sub.id, metadata: sub.metadata },
    },
    status: o.draft ? "draft" : o.paid ? "paid" : "open",
    amount_due: amount,
    amount_paid: o.paid ? amount : 0,
    amount_remaining: o.paid ? 0 : amount,
    currency: item.price.currency,
    created: sec(o.now),
    billing_reason: o.reason ?? "subscription_cycle",
    period_start: period.start,
    period_end: period.end,
    last_finalization_error: null,
    from_invoice: null,
    lines: {
      object: "list",
      has_more: false,
      url: "/v1/invoices/lines",
      data: [{
        id: newId("il"),
        object: "line_item",
        amount: fee,
        currency: item.price.currency,
        period: { start: item.current_period_start, end: item.current_period_end },
        quantity: item.quantity ?? 1,
        pricing: {
          type: "price_details",
          price_details: { price: item.price.id, product: item.price.product },
        },
      }, ...extra],
    },
  }) as Record<string, unknown>;
}

/** An invoice of its own for one amount (no subscription): `invoiceOnce`. */
export function oneOffInvoiceObject(
  o: {
    id: string;
    customer: string;
    amount: number;
    currency: string;
    description: string;
    metadata: Record<string, string>;
    paid: boolean;
    now: number;
  },
) {
  return stripeShape("invoice", {
    id: o.id,
    customer: o.customer,
    subscription: null,
    parent: null,
    status: o.paid ? "paid" : "open",
    amount_due: o.amount,
    amount_paid: o.paid ? o.amount : 0,
    amount_remaining: o.paid ? 0 : o.amount,
    currency: o.currency,
    created: sec(o.now),
    billing_reason: "manual",
    description: o.description,
    metadata: o.metadata,
    period_start: sec(o.now),
    period_end: sec(o.now),
    last_finalization_error: null,
    from_invoice: null,
    lines: {
      object: "list",
      has_more: false,
      url: `/v1/invoices/${o.id}/lines`,
      data: [{
        id: newId("il"),
        object: "line_item",
        amount: o.amount,
        currency: o.currency,
        description: o.description,
        metadata: o.metadata,
        period: { start: sec(o.now), end: sec(o.now) },
        quantity: 1,
      }],
    },
  }) as Record<string, unknown>;
}

export function customerObject(
  o: { id: string; email: string | null; name?: string | null; metadata?: Record<string, string> },
  now: number,
) {
  return stripeShape("customer", {
    ...o,
    discount: null,
    created: sec(now),
  });
}

/** An event to make: its type, its object, the account it happened on (and its id, if fixed). */
export interface EventSpec {
  type: string;
  object: Record<string, unknown>;
  account: string | null;
  id?: string;
}

/** A Stripe-shaped event made at `now`, as its id and JSON (not signed, not sent). */
export function eventJson(spec: EventSpec, now: number): { id: string; payload: string } {
  const event = stripeShape<StripeEvent>("event", {
    id: spec.id ?? newId("evt"),
    type: spec.type,
    created: sec(now),
    account: spec.account,
    livemode: false,
    api_version: "2026-10-28.endive",
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    data: { object: spec.object },
  });
  return { id: event.id, payload: JSON.stringify(event) };
}
