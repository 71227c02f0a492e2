/**
 * Subscription state on our customers, and the dashboard aggregates it feeds (active,
 * canceling, MRR, payers per tier), changed in one checked commit (lib/kv/customers.ts). The
 * pure parts (snapshot, which state wins) are exported for unit tests.
 */
import { couponOf, discountedMonthly } from "@/lib/catalog/coupons.ts";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { changeCustomer, commitSubscription, type Subscription } from "@/lib/kv/customers.ts";
import { baseItem, type StripeSubscription, subscriptionPeriod } from "@/lib/payments/provider.ts";
import { aggregateDeltas, PAID_STATUSES } from "@/lib/usage/plan.ts";
import { subscriptionView } from "@/lib/customers/customers.ts";
import { webhookEvents } from "@/lib/outbound/events.ts";
import { dayKey } from "@/lib/period.ts";
/**
 * Our record of a provider subscription. `version` (ms) orders states, newer winning: when the
 * state was asked of the provider (the request's start), so the state read last is the newest one
 * whatever order events arrive in, several in one second included.
 */
export function snapshot(
  p: Project,
  sub: StripeSubscription,
  version: number,
): Subscription | null {
  const item = baseItem(sub.items.data);
  if (!item) return null;
  const price = item.price;
  const tier = p.tiers.find((t) => t.priceId === price.id) ??
    p.tiers.find((t) => t.productId === price.product) ??
    p.tiers.find((t) => t.id === sub.metadata?.dream_tier_id) ??
    p.tiers.find((t) => t.name === sub.metadata?.dream_tier);
  if (!tier) return null;
  const { start, end } = subscriptionPeriod(sub);
  const amount = (price.unit_amount ?? 0) * (item.quantity ?? 1);
  const interval = price.recurring?.interval ?? "month";
  const monthly = interval === "year"
    ? Math.round(amount / 12)
    : interval === "week"
    ? Math.round((amount * 52) / 12)
    : interval === "day"
    ? Math.round((amount * 365) / 12)
    : amount;
  const status =
    (["active", "trialing", "past_due", "canceled", "incomplete", "unpaid"] as const).find((x) =>
      x === sub.status
    ) ?? (sub.status === "incomplete_expired" ? "canceled" : "incomplete");
  // a promotion code given at checkout is in the metadata with its terms; MRR counts what is paid
  const coupon = couponOf(p, sub.metadata);
  return {
    id: sub.id,
    tierId: tier.id,
    priceId: price.id,
    monthlyAmount: discountedMonthly(coupon, {
      monthly,
      startedAt: sub.created * 1000,
      now: version,
      intervalMonths: interval === "year" ? 12 : 1,
    }),
    currency: price.currency,
    status,
    currentPeriodStart: new Date(start * 1000).toISOString(),
    currentPeriodEnd: new Date(end * 1000).toISOString(),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    updatedAt: version,
    createdAt: sub.created,
  };
}

/**
 * Whether `next` should replace `cur`. The same subscription: a newer (or equal) version wins.
 * Another subscription: it replaces one that no longer pays, or is itself a paid one (a new
 * purchase); an old subscription's late events never drop a newer paid one. Between two paid
 * ones, the later purchase wins (by creation time, then id: the same answer whatever order
 * their events come in), or, for records without a creation time, the newer event.
 */
export function supersedes(cur: Subscription | null, next: Subscription): boolean {
  if (!cur) return true;
  if (cur.id === next.id) {
    // an ended subscription never comes back; otherwise the newer state wins
    if (cur.status === "canceled") {
      return next.status === "canceled" && next.updatedAt >= cur.updatedAt;
    }
    return next.updatedAt >= cur.updatedAt;
  }
  if (!PAID_STATUSES.has(cur.status)) return true;
  if (!PAID_STATUSES.has(next.status)) return false;
  if (cur.createdAt !== undefined && next.createdAt !== undefined) {
    return next.createdAt > cur.createdAt || (next.createdAt === cur.createdAt && next.id > cur.id);
  }
  return next.updatedAt >= cur.updatedAt;
}

/**
 * The paid subscriptions a customer must not keep (one paid subscription per customer: two
 * checkouts paid at once, say): of `seen` (the state before an event and the event's own), those
 * paid and other than the one the customer holds, when that one is paid. They are to be ended
 * at the provider.
 */
export function extraPaidSubscriptions(
  held: Subscription | null,
  seen: (Subscription | null)[],
): string[] {
  if (!held || !PAID_STATUSES.has(held.status)) return [];
  const ids = seen.filter((x): x is Subscription =>
    x !== null && x.id !== held.id && PAID_STATUSES.has(x.status)
  ).map((x) => x.id);
  return [...new Set(ids)];
}

/**
 * Applies a provider subscription to our customer: plan, limit and billing period follow it.
 * The customer, the aggregates and (when given) the event claim change in one checked commit;
 * a duplicate event changes nothing, and neither does any event about a subscription that ended
 * with its customer's deletion. Returns "applied", "stale" (an older or ended state),
 * "duplicate" or "no_customer". `seen` is told the customer's subscription the decision was made
 * on (the one committed against), when there was a customer to decide for.
 */
export async function applySubscription(
  s: Pick<Services, "kv" | "clock" | "caches">,
  target: { project: Project; customerId: string },
  opts: {
    sub: Subscription;
    eventId?: string;
    providerCustomerId?: string;
    seen?: (before: Subscription | null) => void;
  },
): Promise<"applied" | "stale" | "duplicate" | "no_customer" | "tier_gone"> {
  const sub = opts.sub;
  const pk = target.project.pk;
  const out = await commitSubscription(s.kv, {
    pk,
    customerId: target.customerId,
    subscriptionId: sub.id,
    eventId: opts.eventId,
    // a paying subscription only on a tier the project still has (a deletion may have come
    // between reading the project and this commit: the deletion checks the payers, this the tier)
    tierId: PAID_STATUSES.has(sub.status) ? sub.tierId : undefined,
    now: s.clock.now(),
    decide: (c) => {
      opts.seen?.(c.subscription);
      return supersedes(c.subscription, sub)
        ? {
          apply: true,
          next: {
            ...c,
            subscription: sub,
            providerCustomerId: opts.providerCustomerId ?? c.providerCustomerId,
          },
          deltas: aggregateDeltas(pk, c.subscription, sub, { day: dayKey(s.clock.now()) }),
        }
        : { apply: false };
    },
    events: (before, after) => {
      const prev = before.subscription;
      const view = subscriptionView(target.project, sub);
      // one event per change a receiver can see: the provider's echoes of a change made here
      // (and an invoice's refresh of a state already held) send nothing again
      if (
        prev?.id === sub.id &&
        JSON.stringify(subscriptionView(target.project, prev)) === JSON.stringify(view)
      ) return [];
      const type = after.subscription?.status === "canceled"
        ? "subscription.canceled"
        : !prev || prev.id !== sub.id
        ? "subscription.created"
        : "subscription.updated";
      return webhookEvents(target.project, type, {
        object: { customer: after.id, ...view },
        // when this state was read from the provider: later states have larger versions
        version: Math.round(sub.updatedAt),
      });
    },
  });
  if (out.customer) s.caches.customers.set(pk, target.customerId, out.customer);
  return out.outcome;
}

/**
 * Records the provider's customer id on our customer (first checkout), and the email given at
 * checkout when we had none.
 */
export async function linkProviderCustomer(
  s: Pick<Services, "kv" | "caches">,
  target: { pk: string; customerId: string },
  o: { providerCustomerId: string; email?: string | null },
): Promise<void> {
  const next = await changeCustomer(s.kv, {
    pk: target.pk,
    id: target.customerId,
    what: "link the customer",
    change: (c) => {
      const email = c.email ?? o.email ?? null;
      return c.providerCustomerId === o.providerCustomerId && email === c.email
        ? null
        : { ...c, providerCustomerId: o.providerCustomerId, email };
    },
  });
  if (next) s.caches.customers.set(target.pk, target.customerId, next);
}

/**
 * Forgets the provider's customer of ours when it is gone there (deleted in the provider's
 * dashboard, or made on an account since replaced): the next checkout or portal makes a new one.
 */
export async function unlinkProviderCustomer(
  s: Pick<Services, "kv" | "caches">,
  target: { pk: string; customerId: string },
  providerCustomerId: string,
): Promise<void> {
  const next = await changeCustomer(s.kv, {
    pk: target.pk,
    id: target.customerId,
    what: "unlink the customer",
    change: (c) =>
      c.providerCustomerId === providerCustomerId ? { ...c, providerCustomerId: null } : null,
  });
  if (next) s.caches.customers.set(target.pk, target.customerId, next);
}
