/**
 * What happens in the sandbox when a buyer pays or leaves a checkout, and when a subscription
 * is changed or canceled: the objects change in the sandbox store, their events kept in the same
 * commit, then the signed events go out through the same webhook code as Stripe's.
 */
import {
  type OneOffInvoiceRequest,
  type RefundRequest,
  type StripePrice,
  type StripeSubscription,
  type SubscriptionUpdate,
  switchItems,
} from "@/lib/payments/provider.ts";
import type { SandboxStore } from "@/lib/kv/sandbox.ts";
import type { KeptEvent } from "@/lib/kv/sandbox_outbox.ts";
import { addInterval } from "@/lib/period.ts";
import { ConflictError, ValidationError } from "@/lib/errors.ts";
import { stripeShape } from "@/lib/payments/fixtures.ts";
import {
  customerObject,
  type EventSpec,
  invoiceObject,
  newId,
  oneOffInvoiceObject,
  publicSession,
  type SandboxPortal,
  type SandboxSession,
  sec,
  subscriptionObject,
} from "@/lib/payments/sandbox/objects.ts";

/**
 * What the flows need: the store, the time, and events — made (`events`) to be kept in the commit
 * that makes what they tell of, then sent (`send`); or kept and sent on their own (`emit`).
 */
export interface SandboxContext {
  store: SandboxStore;
  now: () => number;
  events: (specs: EventSpec[]) => KeptEvent[];
  send: (events: KeptEvent[]) => Promise<unknown>;
  emit: (spec: EventSpec) => Promise<unknown>;
}

const asObject = (o: unknown) => o as Record<string, unknown>;

/**
 * Stripe's test cards as the payment method they become: 4000 0000 0000 0341 attaches to the
 * customer and then fails every charge (what a trial whose card fails needs); anything else is
 * the card that always succeeds.
 */
export const FAILING_CARD = "4000000000000341";
/** The payment method the failing card becomes: every charge to it fails. */
export const FAILING_PAYMENT_METHOD = "pm_card_chargeCustomerFail";
export function paymentMethodOf(card: string | undefined): string {
  return card?.replace(/\D/g, "") === FAILING_CARD ? FAILING_PAYMENT_METHOD : "pm_card_visa";
}

/** The invoice event of a subscription's current period. */
export function invoiceEvent(
  ctx: SandboxContext,
  type: "invoice.paid" | "invoice.payment_failed",
  sub: { subscription: StripeSubscription; account: string | null },
): EventSpec {
  const invoice = invoiceObject(sub.subscription, {
    paid: type === "invoice.paid",
    now: ctx.now(),
  });
  return { type, object: invoice, account: sub.account };
}

/**
 * An amount billed once on an invoice of its own, charged at once to the card given (the test
 * card that fails: `invoice.payment_failed`, the invoice left open; else `invoice.paid`). Once
 * per idempotency key, as Stripe's are; the invoice, the key and its event in one commit.
 */
export async function invoiceOnce(
  ctx: SandboxContext,
  account: string | null,
  o: OneOffInvoiceRequest,
): Promise<{ id: string }> {
  const made = await ctx.store.once(o.idempotencyKey, () => {
    const paid = o.paymentMethod !== FAILING_PAYMENT_METHOD;
    const invoice = oneOffInvoiceObject({ id: newId("in"), ...o, paid, now: ctx.now() });
    const type = paid ? "invoice.paid" : "invoice.payment_failed";
    const id = invoice.id as string;
    return {
      id,
      objects: [{ kind: "invoice" as const, id, value: invoice }],
      events: ctx.events([{ type, object: invoice, account }]),
    };
  });
  await ctx.send(made.events);
  return { id: made.id };
}

/**
 * What the Pay button does (test card 4242…): creates the customer and, in subscription mode,
 * the subscription; emits `customer.subscription.created`, `checkout.session.completed` and
 * `invoice.paid`. Null when the session was no longer open.
 */
export async function completeCheckout(
  ctx: SandboxContext,
  id: string,
  o: { email?: string | undefined; card?: string | undefined } = {},
): Promise<SandboxSession | null> {
  const { email, card } = o;
  const open = await ctx.store.get<SandboxSession>("checkout", id);
  const customer = open.customer ?? newId("cus");
  const acct = open.account;
  let subscription: StripeSubscription | null = null;
  if (open.mode === "subscription") {
    const li = open.line_items_expanded[0]!;
    const start = ctx.now();
    const interval = li.price.recurring?.interval === "year" ? "year" : "month";
    const trialDays = open.trial_days ?? 0;
    const end = trialDays > 0
      ? start + trialDays * 86_400_000
      : Date.parse(addInterval(new Date(start).toISOString(), interval));
    subscription = subscriptionObject(
      {
        id: newId("sub"),
        customer,
        price: li.price,
        metadata: open.subscription_metadata,
        paymentMethod: paymentMethodOf(card),
        trial: trialDays > 0,
        extra: open.line_items_expanded.slice(1).map((x) => x.price),
      },
      { start: sec(start), end: sec(end) },
    );
  }
  const newCustomer = open.customer ? undefined : {
    id: customer,
    value: customerObject({ id: customer, email: email ?? open.customer_email ?? null }, ctx.now()),
  };
  const claimed = await ctx.store.claimSession<SandboxSession>(id, {
    from: "open",
    to: "complete",
    redeem: (open as { discounts?: { promotion_code?: string }[] }).discounts?.[0]?.promotion_code,
    patch: {
      customer,
      payment_status: "paid",
      subscription: subscription?.id ?? null,
      customer_details: { email: email ?? open.customer_email ?? "buyer@example.com" },
      ...({ payment_intent: open.mode === "payment" ? newId("pi") : null } as object),
    },
    ...(newCustomer ? { customer: newCustomer } : {}),
    ...(subscription ? { subscription: { sub: subscription, account: acct } } : {}),
    events: (done) =>
      ctx.events([
        ...(subscription
          ? [{
            type: "customer.subscription.created",
            object: asObject(subscription),
            account: acct,
          }]
          : []),
        {
          type: "checkout.session.completed",
          object: asObject(publicSession(done)),
          account: acct,
        },
        ...(subscription
          ? [invoiceEvent(ctx, "invoice.paid", { subscription, account: acct })]
          : []),
      ]),
  });
  if (!claimed) return null;
  await ctx.send(claimed.events);
  return claimed.session;
}

/**
 * Refunds part or all of a paid one-off checkout, once per idempotency key (a retry gets the
 * first refund, as Stripe's does): more than is left is refused (as Stripe does); emits
 * `charge.refunded` with the charge's total refunded so far and the checkout's metadata. The
 * refunded total, the key and the event are one commit: a retry refunds nothing twice, and a
 * process that stops before the delivery loses no event.
 */
export async function refundPayment(
  ctx: SandboxContext,
  o: RefundRequest,
): Promise<{ id: string; amount: number }> {
  const session = await ctx.store.get<SandboxSession>("checkout", o.sessionId);
  const pi = (session as unknown as { payment_intent?: string | null }).payment_intent;
  if (session.status !== "complete" || !pi) {
    throw new ConflictError("This checkout has no payment to refund");
  }
  const paid = session.amount_total ?? 0;
  if (!Number.isInteger(o.amount) || o.amount <= 0) {
    throw new ValidationError("A refund amount must be a positive whole number of minor units");
  }
  const made = await ctx.store.refundOnce(`refund:${o.idempotencyKey}`, pi, {
    amount: o.amount,
    max: paid,
    made: (total) => {
      const refundId = newId("re");
      const charge = chargeObject(ctx, { session, pi, paid, total, refundId, o });
      return {
        id: refundId,
        events: ctx.events([{ type: "charge.refunded", object: charge, account: session.account }]),
      };
    },
  });
  if (made === null) throw new ValidationError("The refund is more than is left of the payment");
  await ctx.send(made.events);
  return { id: made.id, amount: o.amount };
}

/** The charge of a paid checkout as `charge.refunded` carries it: refunded `total` so far. */
function chargeObject(
  ctx: SandboxContext,
  r: {
    session: SandboxSession;
    pi: string;
    paid: number;
    total: number;
    refundId: string;
    o: RefundRequest;
  },
): Record<string, unknown> {
  const { session, pi, paid, total } = r;
  return stripeShape<Record<string, unknown>>("charge", {
    id: `ch_${pi.slice(3)}`,
    amount: paid,
    amount_captured: paid,
    amount_refunded: total,
    refunded: total >= paid,
    currency: session.currency,
    customer: session.customer,
    payment_intent: pi,
    created: sec(ctx.now()),
    metadata: { ...session.metadata },
    refunds: {
      object: "list",
      data: [stripeShape("refund", {
        id: r.refundId,
        amount: r.o.amount,
        currency: session.currency,
        payment_intent: pi,
        charge: `ch_${pi.slice(3)}`,
        status: "succeeded",
        metadata: r.o.metadata,
        created: sec(ctx.now()),
      })],
      has_more: false,
      url: `/v1/charges/ch_${pi.slice(3)}/refunds`,
    },
  });
}

/** Abandons (or expires) an open session: `checkout.session.expired`, as Stripe sends for both. */
export async function expireCheckout(
  ctx: SandboxContext,
  id: string,
): Promise<SandboxSession | null> {
  const claimed = await ctx.store.claimSession<SandboxSession>(id, {
    from: "open",
    to: "expired",
    patch: { expires_at: sec(ctx.now()) },
    events: (done) =>
      ctx.events([{
        type: "checkout.session.expired",
        object: asObject(publicSession(done)),
        account: done.account,
      }]),
  });
  if (!claimed) return null;
  await ctx.send(claimed.events);
  return claimed.session;
}

/**
 * Cancel at period end, undo it, or switch price (prorated): `customer.subscription.updated`.
 * Decided on the subscription's latest state (two changes at once both apply; the clock's renewal
 * meanwhile is kept, not overwritten).
 */
export async function updateSubscription(
  ctx: SandboxContext,
  id: string,
  o: Omit<SubscriptionUpdate, "idempotencyKey">,
): Promise<StripeSubscription> {
  const price = o.price ? await ctx.store.get<StripePrice>("price", o.price) : null;
  if (price && !price.active) throw new ValidationError(`Price ${o.price} is archived`);
  const overage = o.overagePrice ? await ctx.store.get<StripePrice>("price", o.overagePrice) : null;
  const changed = await ctx.store.changeSubscription(id, ({ account, ...cur }) => {
    if (cur.status === "canceled") throw new ValidationError("This subscription has ended");
    let next: StripeSubscription = { ...cur };
    if (o.cancelAtPeriodEnd !== undefined) {
      const end = cur.items.data[0]?.current_period_end ?? null;
      next = {
        ...next,
        cancel_at_period_end: o.cancelAtPeriodEnd,
        canceled_at: o.cancelAtPeriodEnd ? sec(ctx.now()) : null,
        ...({ cancel_at: o.cancelAtPeriodEnd ? end : null } as object),
      };
    }
    if (price) {
      // as Stripe applies the item changes of a switch (`switchItems`): the tier's price, and
      // its metered overage item replaced, removed or added
      const data = [...next.items.data];
      for (const change of switchItems(data, { price: price.id, overagePrice: o.overagePrice })) {
        const at = data.findIndex((it) => it.id === change.id);
        const to = change.price === price.id ? price : overage!;
        if (change.deleted) data.splice(at, 1);
        else if (at >= 0) data[at] = { ...data[at]!, price: to };
        else {
          const { quantity: _licensed, ...first } = data[0]!; // a metered item has no quantity
          data.push({ ...first, id: newId("si"), price: to });
        }
      }
      next = { ...next, items: { ...next.items, data } };
    }
    // a prorated switch is invoiced now; without proration the renewal charges the new price
    const events = ctx.events([
      { type: "customer.subscription.updated", object: asObject(next), account },
      ...(price && o.prorate !== false
        ? [invoiceEvent(ctx, "invoice.paid", { subscription: next, account })]
        : []),
    ]);
    return { next, events };
  });
  await ctx.send(changed.events);
  return changed.next;
}

/** Ends a subscription now: `customer.subscription.deleted`, like Stripe's cancel. */
export async function cancelSubscription(
  ctx: SandboxContext,
  id: string,
): Promise<StripeSubscription> {
  const changed = await ctx.store.changeSubscription(id, ({ account, ...cur }) => {
    if (cur.status === "canceled") return null; // ended already: as it is
    const now = sec(ctx.now());
    const next = {
      ...cur,
      status: "canceled",
      canceled_at: now,
      ...({ ended_at: now } as object),
    } as StripeSubscription;
    const events = ctx.events([
      { type: "customer.subscription.deleted", object: asObject(next), account },
    ]);
    return { next, events };
  });
  await ctx.send(changed.events);
  return changed.next;
}

/** A portal session with the customer's live subscription on its account, if any. */
export async function portalOf(
  ctx: SandboxContext,
  id: string,
): Promise<{ portal: SandboxPortal; subscription: StripeSubscription | null }> {
  const portal = await ctx.store.get<SandboxPortal>("portal", id);
  let subscription: StripeSubscription | null = null;
  for (const stored of await ctx.store.subscriptionsOf(portal.customer)) {
    if (stored.account === portal.account && stored.status !== "canceled") {
      const { account: _a, ...sub } = stored;
      subscription = sub;
    }
  }
  return { portal, subscription };
}
