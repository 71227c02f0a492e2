/**
 * Subscription state on our customers, and the dashboard aggregates it feeds (active,
 * canceling, MRR), changed in one atomic operation. Pure parts (snapshot, contribution, which
 * state wins) are exported for unit tests.
 */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { type Customer, customerKeys, type Subscription } from "@/lib/kv/customers.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { type StripeSubscription, subscriptionPeriod } from "@/lib/payments/provider.ts";
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { eventKeys } from "@/lib/kv/events.ts";

/** Statuses in which the customer keeps the paid plan (past_due: while Stripe retries the card). */
export const PAID_STATUSES = new Set(["active", "trialing", "past_due"]);

/** Our record of a provider subscription; `version` orders states (newer wins). */
export function snapshot(
  p: Project,
  sub: StripeSubscription,
  version: number,
): Subscription | null {
  const item = sub.items.data[0];
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
  return {
    id: sub.id,
    tierId: tier.id,
    priceId: price.id,
    monthlyAmount: monthly,
    currency: price.currency,
    status,
    currentPeriodStart: new Date(start * 1000).toISOString(),
    currentPeriodEnd: new Date(end * 1000).toISOString(),
    cancelAtPeriodEnd: sub.cancel_at_period_end,
    updatedAt: version,
  };
}

/** What one subscription adds to the project's aggregates. */
export function contribution(sub: Subscription | null) {
  if (!sub || !PAID_STATUSES.has(sub.status)) return { active: 0, canceling: 0, mrr: 0 };
  return { active: 1, canceling: sub.cancelAtPeriodEnd ? 1 : 0, mrr: sub.monthlyAmount };
}

/**
 * Whether `next` should replace `cur`. The same subscription: a newer (or equal) version wins.
 * Another subscription: it replaces one that no longer pays, or is itself a paid one (a new
 * purchase); an old subscription's late events never drop a newer paid one.
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
  return PAID_STATUSES.has(next.status) && next.updatedAt >= cur.updatedAt;
}

const num = (v: unknown) => (typeof v === "number" ? v : 0);

/**
 * Applies a provider subscription to our customer: plan, limit and billing period follow it.
 * The customer, the three aggregates and (when given) the event claim are written in one
 * atomic commit checked on all their versionstamps; a duplicate event changes nothing.
 * Returns "applied", "stale" (an older state) or "duplicate".
 */
export function applySubscription(
  s: Services,
  project: Project,
  customerId: string,
  sub: Subscription,
  opts: { eventId?: string; providerCustomerId?: string } = {},
): Promise<"applied" | "stale" | "duplicate" | "no_customer"> {
  const pk = project.pk;
  const statKeys = [
    projectStatKeys.subsActive(pk),
    projectStatKeys.subsCanceling(pk),
    projectStatKeys.mrr(pk),
  ];
  return retryAtomic("apply the subscription", async () => {
    const claimKey = opts.eventId ? eventKeys.claim(opts.eventId) : null;
    const [cust, active, canceling, mrr, claim] = await s.kv.getMany<unknown[]>([
      customerKeys.byId(pk, customerId),
      ...statKeys,
      ...(claimKey ? [claimKey] : []),
    ]);
    if (claim?.value) return "duplicate" as const;
    const c = cust!.value as Customer | null;
    let op = s.kv.atomic();
    if (claimKey) {
      op = op.check({ key: claimKey, versionstamp: null }).set(claimKey, { at: s.clock.now() }, {
        expireIn: 30 * 86_400_000,
      });
    }
    if (!c) {
      const res = await op.commit();
      return res.ok ? "no_customer" as const : RETRY;
    }
    if (!supersedes(c.subscription, sub)) {
      const res = await op.commit();
      return res.ok ? "stale" as const : RETRY;
    }
    const before = contribution(c.subscription);
    const after = contribution(sub);
    const next: Customer = {
      ...c,
      subscription: sub,
      providerCustomerId: opts.providerCustomerId ?? c.providerCustomerId,
    };
    op = op.check(cust!, active!, canceling!, mrr!)
      .set(cust!.key, next)
      .set(statKeys[0]!, num(active!.value) + after.active - before.active)
      .set(statKeys[1]!, num(canceling!.value) + after.canceling - before.canceling)
      .set(statKeys[2]!, num(mrr!.value) + after.mrr - before.mrr);
    const res = await op.commit();
    if (!res.ok) return RETRY;
    s.caches.customers.set(`${pk}\u0000${customerId}`, next);
    return "applied" as const;
  });
}

/** Records the provider's customer id on our customer (first checkout). */
export function linkProviderCustomer(
  s: Services,
  pk: string,
  customerId: string,
  providerCustomerId: string,
) {
  return retryAtomic("link the customer", async () => {
    const cur = await s.kv.get<Customer>(customerKeys.byId(pk, customerId));
    if (!cur.value || cur.value.providerCustomerId === providerCustomerId) return null;
    const next = { ...cur.value, providerCustomerId };
    const res = await s.kv.atomic().check(cur).set(cur.key, next).commit();
    if (!res.ok) return RETRY;
    s.caches.customers.set(`${pk}\u0000${customerId}`, next);
    return next;
  });
}
