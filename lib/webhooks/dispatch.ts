/**
 * Provider events (Stripe's, or the sandbox's of the same shape): one handler per type.
 * Each handled event is claimed atomically with its effects; types we don't handle are
 * acknowledged and ignored. Events carry their connected account (`event.account`), which must
 * be the project's.
 */
import { webhookEvents } from "@/lib/outbound/events.ts";
import { publicOrder } from "@/lib/store/orders.ts";
import { closeEndedSubscription, closeOverage } from "@/lib/billing/overage.ts";
import { redeemed } from "@/lib/billing/coupons.ts";
import type { Services } from "@/lib/services.ts";
import type {
  StripeCheckoutSession,
  StripeEvent,
  StripeSubscription,
} from "@/lib/payments/provider.ts";
import { getProject, type Project } from "@/lib/kv/projects.ts";
import { getDeveloper } from "@/lib/kv/developers.ts";
import {
  applySubscription,
  extraPaidSubscriptions,
  linkProviderCustomer,
  snapshot,
} from "@/lib/billing/subscriptions.ts";
import type { Subscription } from "@/lib/kv/customers.ts";
import { tryCancelNowAtProvider } from "@/lib/payments/cancel_now.ts";
import { applyPlatformSubscription, platformAccountOf } from "@/lib/billing/platform.ts";
import { onDeauthorized } from "@/lib/webhooks/account_events.ts";
import { claimOnly, type Handler, log, type Outcome, settle } from "@/lib/webhooks/outcomes.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import { currentSubscription } from "@/lib/payments/failures.ts";
import { completeReservation, releaseReservation } from "@/lib/store/cart.ts";
import { commitRefund } from "@/lib/kv/orders.ts";
import { dayKey } from "@/lib/period.ts";
import { checkEvent } from "@/lib/webhooks/event_shapes.ts";

/** A store checkout's reservation, when the session belongs to one of our store projects. */
async function reservationOf(s: Services, ev: StripeEvent, session: StripeCheckoutSession) {
  const id = session.metadata?.dream_reservation;
  if (session.mode !== "payment" || !id) return null;
  const found = await projectFor(s, ev, session.metadata);
  return found ? { pk: found.project.pk, id } : null;
}

/** The project an object belongs to, if its metadata names one and the account matches. */
async function projectFor(
  s: Services,
  ev: StripeEvent,
  metadata: Record<string, string> | null | undefined,
): Promise<{ project: Project; acct: AccountRef } | null> {
  const pk = metadata?.dream_pk;
  if (!pk) return null;
  const project = await getProject(s.kv, pk);
  if (!project) return null;
  const dev = await getDeveloper(s.kv, project.platformId);
  const accountId = dev?.connection?.[project.mode]?.accountId ?? null;
  if (!accountId || (ev.account ?? null) !== accountId) {
    s.logger.warn("event for a project from another account ignored", { event: ev.id, pk });
    return null;
  }
  return { project, acct: { accountId, mode: project.mode } };
}

/**
 * Brings one subscription's state from the provider onto its customer. An event says that the
 * subscription changed; what it is now is read from the provider (unless the caller just read
 * it: `readAt`, when that read started), and the time of the read orders the states: events
 * arrive out of order and several in one second, and the state read last is the newest one
 * (the event's own copy, applied in arrival order, could leave a resumed subscription canceling).
 */
async function applyProviderSubscription(
  s: Services,
  ev: StripeEvent,
  told: StripeSubscription,
  readAt?: number,
): Promise<Outcome> {
  if (told.metadata?.dream_platform) return applyPlatformSubscription(s, ev, told, readAt);
  const found = await projectFor(s, ev, told.metadata);
  const customerId = told.metadata?.dream_customer;
  if (!found || !customerId) return await settle(s, ev);
  let sub = told;
  if (readAt === undefined) {
    readAt = s.clock.now();
    const current = await currentSubscription(s.payments, found.acct, told.id);
    if (!current) {
      return await settle(s, ev, "ignored: no such subscription");
    }
    sub = { ...current, metadata: { ...told.metadata, ...current.metadata } };
  }
  const snap = snapshot(found.project, sub, readAt);
  if (!snap) return await tierGone(s, ev, found.project, sub);
  let before: Subscription | null = null;
  const outcome = await applySubscription(s, { project: found.project, customerId }, {
    sub: snap,
    eventId: ev.id,
    providerCustomerId: sub.customer,
    seen: (cur) => before = cur,
  });
  if (outcome === "tier_gone") {
    // deleted between the read above and the commit: ended at the provider as when read gone
    return await tierGone(s, ev, (await getProject(s.kv, found.project.pk)) ?? found.project, sub);
  }
  if (outcome === "applied" || outcome === "stale") {
    // one paid subscription per customer: another one paid too (two checkouts paid at once) is
    // ended at the provider, the earlier purchase
    const held = outcome === "applied" ? snap : before;
    for (const id of extraPaidSubscriptions(held, [before, snap])) {
      await tryCancelNowAtProvider(s, found.project, id, "a customer's second subscription");
    }
  }
  // a subscription of a customer deleted meanwhile (its checkout paid after the deletion) would
  // go on billing for no one: it is ended at the provider now
  const orphan = outcome === "no_customer" && snap.status !== "canceled" &&
    await tryCancelNowAtProvider(s, found.project, snap.id, "a deleted customer's subscription");
  if (outcome !== "duplicate") {
    await log(s, ev, {
      pk: found.project.pk,
      outcome: orphan ? "no_customer: ended at the provider" : outcome,
      summary: `${customerId}: ${snap.status}${snap.cancelAtPeriodEnd ? " (canceling)" : ""}`,
    });
  }
  // an ended subscription's last period: no renewal invoice will bill its overage. Asked again
  // on a redelivery (the event claimed already), which is how a failed attempt is retried.
  if (snap.status === "canceled" && outcome !== "no_customer") {
    const out = await closeEndedSubscription(s, found.project, {
      acct: found.acct,
      customerId,
      sub,
    });
    if (out.closed === "now" && out.calls > 0) {
      await log(s, ev, {
        pk: found.project.pk,
        outcome: "applied",
        summary:
          `overage of ${customerId}: ${out.calls} calls, ${out.amount} billed on a final invoice`,
      });
    }
  }
  return outcome;
}

/**
 * A subscription none of the project's tiers sells: its tier was deleted while its checkout was
 * open, and it was paid anyway (in the moment before the deletion expired it). It would bill
 * for nothing, so it is ended at the provider (its first payment is not refunded).
 */
async function tierGone(
  s: Services,
  ev: StripeEvent,
  project: Project,
  sub: StripeSubscription,
): Promise<Outcome> {
  const tierId = sub.metadata?.dream_tier_id;
  const deleted = tierId !== undefined && !project.tiers.some((t) => t.id === tierId) &&
    sub.status !== "canceled" && sub.status !== "incomplete_expired";
  const ended = deleted &&
    await tryCancelNowAtProvider(s, project, sub.id, "a subscription to a deleted tier");
  if (!(await claimOnly(s, ev))) return "duplicate";
  if (!ended) return "ignored: unknown price";
  const outcome = "tier_deleted: ended at the provider";
  await log(s, ev, {
    pk: project.pk,
    outcome,
    summary: `${sub.metadata?.dream_customer ?? "?"}: ${sub.metadata?.dream_tier ?? tierId}`,
  });
  return outcome;
}

const onSubscriptionEvent: Handler = (s, ev) =>
  applyProviderSubscription(s, ev, ev.data.object as unknown as StripeSubscription);

/** An invoice as the handlers read it (Stripe names its subscription in one of two places). */
interface InvoiceFields {
  billing_reason?: string | null;
  customer?: string | null;
  period_start?: number;
  period_end?: number;
  subscription?: string | null;
  parent?: {
    subscription_details?: { subscription?: string; metadata?: Record<string, string> } | null;
  } | null;
}

/** The invoice's subscription id and that subscription's metadata. */
function invoiceSubscription(inv: InvoiceFields) {
  return {
    subId: inv.parent?.subscription_details?.subscription ?? inv.subscription ?? null,
    meta: inv.parent?.subscription_details?.metadata,
  };
}

/** Invoices: fetch the subscription's current state (status, period) and apply it. */
const onInvoice: Handler = async (s, ev) => {
  const { subId, meta } = invoiceSubscription(ev.data.object as InvoiceFields);
  if (!subId) return await settle(s, ev);
  const acct = meta?.dream_platform ? platformAccountOf(ev) : (await projectFor(s, ev, meta))?.acct;
  if (!acct && meta) return await settle(s, ev);
  const readAt = s.clock.now();
  const sub = await currentSubscription(
    s.payments,
    acct ?? { accountId: ev.account ?? null, mode: ev.livemode ? "live" : "test" },
    subId,
  );
  if (!sub) return await settle(s, ev, "ignored: no such subscription");
  return applyProviderSubscription(s, ev, sub, readAt);
};

/**
 * A renewal's invoice was drafted (Stripe sends `invoice.created` at the period's end and
 * finalizes an hour later): the ended period's overage is reported now, so that invoice bills it.
 */
const onInvoiceCreated: Handler = async (s, ev) => {
  const inv = ev.data.object as InvoiceFields;
  const { subId, meta } = invoiceSubscription(inv);
  const found = subId && inv.billing_reason === "subscription_cycle" && meta?.dream_customer
    ? await projectFor(s, ev, meta)
    : null;
  if (
    found && typeof inv.customer === "string" && typeof inv.period_start === "number" &&
    typeof inv.period_end === "number" && inv.period_end > inv.period_start
  ) {
    const out = await closeOverage(s, found.project, {
      acct: found.acct,
      customerId: meta!.dream_customer!,
      providerCustomer: inv.customer,
      subscriptionId: subId!,
      period: { start: inv.period_start, end: inv.period_end },
    });
    if (out.closed === "now" && out.calls > 0) {
      await log(s, ev, {
        pk: found.project.pk,
        outcome: "applied",
        summary: `overage of ${meta!.dream_customer}: ${out.calls} calls, ${out.amount} billed`,
      });
      await claimOnly(s, ev);
      return "applied";
    }
  }
  return await settle(s, ev);
};

/** The email the buyer gave at checkout, when a well-formed one is there. */
function checkoutEmail(session: StripeCheckoutSession): string | null {
  const email = session.customer_details?.email ?? session.customer_email ?? null;
  return typeof email === "string" && email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email)
    ? email.toLowerCase()
    : null;
}

const onCheckoutCompleted: Handler = async (s, ev) => {
  const session = ev.data.object as unknown as StripeCheckoutSession;
  if (session.metadata?.dream_coupon && session.payment_status !== "unpaid") {
    // counted once per session, whatever else the event does (and however often it comes),
    // for the project whose account the event came from
    const owner = await projectFor(s, ev, session.metadata);
    if (owner) {
      await redeemed(s, owner.project, { metadata: session.metadata, sessionId: session.id });
    }
  }
  if (session.mode === "subscription" && session.subscription) {
    const platform = session.metadata?.dream_platform;
    const found = platform ? null : await projectFor(s, ev, session.metadata);
    if (!platform && !found) return await settle(s, ev);
    const acct = found?.acct ?? platformAccountOf(ev);
    const readAt = s.clock.now();
    const sub = await s.payments.retrieveSubscription(acct, session.subscription);
    if (found && session.customer && session.metadata?.dream_customer) {
      await linkProviderCustomer(
        s,
        { pk: found.project.pk, customerId: session.metadata.dream_customer },
        { providerCustomerId: session.customer, email: checkoutEmail(session) },
      );
    }
    return applyProviderSubscription(s, ev, {
      ...sub,
      metadata: { ...session.metadata, ...sub.metadata },
    }, readAt);
  }
  const resv = await reservationOf(s, ev, session);
  if (resv && session.payment_status !== "unpaid") {
    const out = await completeReservation(s, resv, {
      eventId: ev.id,
      amountTotal: session.amount_total,
      email: checkoutEmail(session),
    });
    if (out !== "duplicate") {
      await log(s, ev, {
        pk: resv.pk,
        outcome: out,
        summary: `order ${resv.id}: ${session.amount_total} ${session.currency}`,
      });
    }
    return out;
  }
  return await settle(s, ev);
};

const onCheckoutExpired: Handler = async (s, ev) => {
  const session = ev.data.object as unknown as StripeCheckoutSession;
  const resv = await reservationOf(s, ev, session);
  if (resv) {
    const out = await releaseReservation(s, resv, { eventId: ev.id });
    if (out !== "duplicate") {
      await log(s, ev, { pk: resv.pk, outcome: out, summary: `order ${resv.id}: stock released` });
    }
    return out;
  }
  return await settle(s, ev, "acknowledged");
};

/**
 * A refund made outside this server (the provider's dashboard) or the echo of one made here:
 * the order's refunded total follows the charge's (never lower), once per event.
 */
const onChargeRefunded: Handler = async (s, ev) => {
  const charge = ev.data.object as { amount_refunded: number; metadata?: Record<string, string> };
  const id = charge.metadata?.dream_reservation;
  const found = id ? await projectFor(s, ev, charge.metadata) : null;
  if (!found || !id) return await settle(s, ev);
  // recorded first, claimed after: recording is idempotent (the total never goes down), and an
  // event claimed before its refund was recorded would be a duplicate when it came again
  const out = await commitRefund(s.kv, {
    pk: found.project.pk,
    id,
    refundedTotal: charge.amount_refunded,
    day: dayKey(s.clock.now()),
    events: (order) =>
      webhookEvents(found.project, "order.refunded", {
        object: publicOrder(order),
        version: s.clock.now(),
      }),
    now: s.clock.now(),
  });
  if (!(await claimOnly(s, ev))) return "duplicate";
  if (!out) return "ignored";
  await log(s, ev, {
    pk: found.project.pk,
    outcome: out.order.status,
    summary: `order ${id}: ${out.order.amountRefunded} ${out.order.currency} refunded in all`,
  });
  return "applied";
};

export const HANDLERS: Record<string, Handler> = {
  "account.application.deauthorized": onDeauthorized,
  "charge.refunded": onChargeRefunded,
  "checkout.session.completed": onCheckoutCompleted,
  "checkout.session.async_payment_succeeded": onCheckoutCompleted,
  "checkout.session.expired": onCheckoutExpired,
  // a bank debit that failed after the checkout completed: the hold is released as if expired
  "checkout.session.async_payment_failed": onCheckoutExpired,
  "customer.subscription.created": onSubscriptionEvent,
  "customer.subscription.updated": onSubscriptionEvent,
  "customer.subscription.deleted": onSubscriptionEvent,
  "customer.subscription.paused": onSubscriptionEvent,
  "customer.subscription.resumed": onSubscriptionEvent,
  "invoice.paid": onInvoice,
  "invoice.created": onInvoiceCreated,
  "invoice.payment_failed": onInvoice,
};

/**
 * Applies one verified event; unknown types are acknowledged and ignored. A malformed event
 * (see `checkEvent`) is a 400 that changes nothing.
 */
export function handleEvent(s: Services, signed: StripeEvent): Promise<Outcome> {
  const ev = checkEvent(signed);
  const handler = HANDLERS[ev.type];
  return handler ? handler(s, ev) : Promise.resolve("ignored");
}
