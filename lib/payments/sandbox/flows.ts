/**
 * What happens in the sandbox when a buyer pays or leaves a checkout, and when a subscription
 * is changed or canceled: the objects change in the sandbox store, then the signed events go out
 * through the same webhook code as Stripe's.
 */
import type {
  OneOffInvoiceRequest,
  RefundRequest,
  StripePrice,
  StripeSubscription,
} from "@/lib/payments/provider.ts";
import type { SandboxStore, StoredSubscription } from "@/lib/kv/sandbox.ts";
import { addInterval } from "@/lib/period.ts";
import { ConflictError, ValidationError } from "@/lib/errors.ts";
import { stripeShape } from "@/lib/payments/fixtures.ts";
import {
  customerObject,
  invoiceObject,
  newId,
  oneOffInvoiceObject,
  publicSession,
  type SandboxPortal,
  type SandboxSession,
  sec,
  subscriptionObject,
} from "@/lib/payments/sandbox/objects.ts";

/** What the flows need: the store, the time, and a way to send a signed event. */
export interface SandboxContext {
  store: SandboxStore;
  now: () => number;
  emit: (type: string, object: Record<string, unknown>, account: string | null) => Promise<unknown>;
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

/** Sends the invoice event of a subscription's current period. */
export function emitInvoice(
  ctx: SandboxContext,
  type: "invoice.paid" | "invoice.payment_failed",
  sub: { subscription: StripeSubscription; account: string | null },
) {
  const invoice = invoiceObject(sub.subscription, {
    paid: type === "invoice.paid",
    now: ctx.now(),
  });
  return ctx.emit(type, invoice, sub.account);
}

/**
 * An amount billed once on an invoice of its own, charged at once to the card given (the test
 * card that fails: `invoice.payment_failed`, the invoice left open; else `invoice.paid`). Once
 * per idempotency key, as Stripe's are.
 */
export async function invoiceOnce(
  ctx: SandboxContext,
  account: string | null,
  o: OneOffInvoiceRequest,
): Promise<{ id: string }> {
  const id = await onceThenEvent(ctx, o.idempotencyKey, async () => {
    const paid = o.paymentMethod !== FAILING_PAYMENT_METHOD;
    const invoice = oneOffInvoiceObject({ id: newId("in"), ...o, paid, now: ctx.now() });
    await ctx.store.put("invoice", invoice.id as string, invoice);
    return {
      id: invoice.id as string,
      event: { type: paid ? "invoice.paid" : "invoice.payment_failed", object: invoice, account },
    };
  });
  return { id };
}

/**
 * Makes an object once per idempotency key (a retry gets the first one's id, as Stripe's keys
 * do) and sends its event from the call that made it, after the key is kept: a call that stops
 * between the two can be retried without making the object twice.
 */
async function onceThenEvent(
  ctx: SandboxContext,
  key: string,
  make: () => Promise<{ id: string; event: PendingEvent }>,
): Promise<string> {
  const made: { event?: PendingEvent } = {}; // set when this call made the object
  const id = await ctx.store.once(key, async () => {
    const m = await make();
    made.event = m.event;
    return m.id;
  });
  if (made.event) await ctx.emit(made.event.type, made.event.object, made.event.account);
  return id;
}

/** An event to send once what it tells of is kept. */
interface PendingEvent {
  type: string;
  object: Record<string, unknown>;
  account: string | null;
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
  const done = await ctx.store.claimSession<SandboxSession>(id, {
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
  });
  if (!done) return null;
  if (!open.customer) {
    await ctx.store.put(
      "customer",
      customer,
      customerObject({ id: customer, email: email ?? open.customer_email ?? null }, ctx.now()),
    );
  }
  if (subscription) {
    await ctx.store.saveSubscription(subscription, acct);
    await ctx.emit("customer.subscription.created", asObject(subscription), acct);
  }
  await ctx.emit("checkout.session.completed", asObject(publicSession(done)), acct);
  if (subscription) await emitInvoice(ctx, "invoice.paid", { subscription, account: acct });
  return done;
}

/**
 * Refunds part or all of a paid one-off checkout, once per idempotency key (a retry gets the
 * first refund, as Stripe's does): more than is left is refused (as Stripe does); emits
 * `charge.refunded` with the charge's total refunded so far and the checkout's metadata — after
 * the key is kept, so a retry after a failed delivery refunds nothing twice.
 */
export async function refundPayment(
  ctx: SandboxContext,
  o: RefundRequest,
): Promise<{ id: string; amount: number }> {
  const id = await onceThenEvent(ctx, `refund:${o.idempotencyKey}`, async () => {
    const refund = await refundNow(ctx, o);
    return {
      id: refund.id,
      event: { type: "charge.refunded", object: refund.charge, account: refund.account },
    };
  });
  return { id, amount: o.amount };
}

/** The refund itself: checked, added to the payment's refunded total, its charge object made. */
async function refundNow(
  ctx: SandboxContext,
  o: RefundRequest,
): Promise<{ id: string; charge: Record<string, unknown>; account: string | null }> {
  const session = await ctx.store.get<SandboxSession>("checkout", o.sessionId);
  const pi = (session as unknown as { payment_intent?: string | null }).payment_intent;
  if (session.status !== "complete" || !pi) {
    throw new ConflictError("This checkout has no payment to refund");
  }
  const paid = session.amount_total ?? 0;
  if (!Number.isInteger(o.amount) || o.amount <= 0) {
    throw new ValidationError("A refund amount must be a positive whole number of minor units");
  }
  const total = await ctx.store.addRefund(pi, { amount: o.amount, max: paid });
  if (total === null) throw new ValidationError("The refund is more than is left of the payment");
  const refundId = newId("re");
  const charge = stripeShape<Record<string, unknown>>("charge", {
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
        id: refundId,
        amount: o.amount,
        currency: session.currency,
        payment_intent: pi,
        charge: `ch_${pi.slice(3)}`,
        status: "succeeded",
        metadata: o.metadata,
        created: sec(ctx.now()),
      })],
      has_more: false,
      url: `/v1/charges/ch_${pi.slice(3)}/refunds`,
    },
  });
  return { id: refundId, charge, account: session.account };
}

/** Abandons (or expires) an open session: `checkout.session.expired`, as Stripe sends for both. */
export async function expireCheckout(
  ctx: SandboxContext,
  id: string,
): Promise<SandboxSession | null> {
  const done = await ctx.store.claimSession<SandboxSession>(id, {
    from: "open",
    to: "expired",
    patch: { expires_at: sec(ctx.now()) },
  });
  if (!done) return null;
  await ctx.emit("checkout.session.expired", asObject(publicSession(done)), done.account);
  return done;
}

/** Cancel at period end, undo it, or switch price (prorated): `customer.subscription.updated`. */
export async function updateSubscription(
  ctx: SandboxContext,
  id: string,
  o: { cancelAtPeriodEnd?: boolean; price?: string; prorate?: boolean },
): Promise<StripeSubscription> {
  const { account, ...cur } = await ctx.store.get<StoredSubscription>("subscription", id);
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
  if (o.price) {
    const price = await ctx.store.get<StripePrice>("price", o.price);
    if (!price.active) throw new ValidationError(`Price ${o.price} is archived`);
    next = {
      ...next,
      items: {
        ...next.items,
        data: next.items.data.map((it, i) => i === 0 ? { ...it, price } : it),
      },
    };
  }
  await ctx.store.saveSubscription(next, account);
  await ctx.emit("customer.subscription.updated", asObject(next), account);
  // a prorated switch is invoiced now; without proration the renewal charges the new price
  if (o.price && o.prorate !== false) {
    await emitInvoice(ctx, "invoice.paid", { subscription: next, account });
  }
  return next;
}

/** Ends a subscription now: `customer.subscription.deleted`, like Stripe's cancel. */
export async function cancelSubscription(
  ctx: SandboxContext,
  id: string,
): Promise<StripeSubscription> {
  const { account, ...cur } = await ctx.store.get<StoredSubscription>("subscription", id);
  if (cur.status === "canceled") return cur;
  const now = sec(ctx.now());
  const ended = {
    ...cur,
    status: "canceled",
    canceled_at: now,
    ...({ ended_at: now } as object),
  } as StripeSubscription;
  await ctx.store.saveSubscription(ended, account);
  await ctx.emit("customer.subscription.deleted", asObject(ended), account);
  return ended;
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
