/**
 * Which plan a customer's usage counts against, and what a subscription adds to the project's
 * aggregates: the rules that usage, customers, billing and the dashboard share. Pure.
 */
import type { Clock } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Customer, Subscription } from "@/lib/kv/customers.ts";
import { projectStatKeys, type StatDelta } from "@/lib/kv/project_stats.ts";
import { tierOf } from "@/lib/catalog/tiers.ts";
import { currentPeriod, type Period } from "@/lib/period.ts";

/** Statuses in which the customer keeps the paid plan (past_due: while Stripe retries the card). */
export const PAID_STATUSES: ReadonlySet<string> = new Set(["active", "trialing", "past_due"]);

/** The customer's subscription when it keeps the paid plan, else null. */
export function paidSubscription(c: Customer): Subscription | null {
  return c.subscription && PAID_STATUSES.has(c.subscription.status) ? c.subscription : null;
}

/** The tier, limit and period a customer's usage is counted against now. */
export function planOf(s: { clock: Clock }, project: Project, c: Customer) {
  const sub = paidSubscription(c);
  const tier = tierOf(project, sub ? sub.tierId : c.tierId);
  const period: Period = currentPeriod(
    s.clock.now(),
    sub ? { ...sub, ...(tier?.interval ? { interval: tier.interval } : {}) } : null,
  );
  const limit = tier ? tier.limit : 0;
  const overage = limit !== null && !!tier?.overage;
  return { tier, plan: tier?.name ?? null, limit, period, overage };
}

/**
 * The span of time, around `now`, over which `planOf` answers the same for this project and
 * customer (ms, `from` inclusive, `until` exclusive): the period `planOf` gave at `now`, cut
 * short where a subscription that has not started yet begins. Nothing else in that answer moves
 * with the clock, so a reader may keep what it made of it while the clock stays inside.
 */
export function planSpan(
  c: Customer,
  period: Period,
  now: number,
): { from: number; until: number } {
  let until = Date.parse(period.end);
  const sub = paidSubscription(c);
  if (sub) {
    const starts = Date.parse(sub.currentPeriodStart);
    if (now < starts && starts < until) until = starts;
  }
  return { from: Date.parse(period.start), until };
}

/**
 * What one subscription adds to the project's aggregates. A trial keeps the tier but is not
 * active yet and adds nothing to MRR; `paying` (the tier's subscriber count) includes it.
 */
export function contribution(sub: Subscription | null) {
  if (!sub || !PAID_STATUSES.has(sub.status)) {
    return { active: 0, trialing: 0, canceling: 0, mrr: 0, paying: 0 };
  }
  const trial = sub.status === "trialing";
  return {
    active: trial ? 0 : 1,
    trialing: trial ? 1 : 0,
    canceling: sub.cancelAtPeriodEnd ? 1 : 0,
    mrr: trial ? 0 : sub.monthlyAmount,
    paying: 1,
  };
}

/**
 * How the project's aggregates move when a customer's subscription goes from `before` to
 * `after` (either may be null): active, canceling, MRR and the paying count of each tier
 * involved. Keys with no change are left out.
 */
export function aggregateDeltas(
  pk: string,
  before: Subscription | null,
  after: Subscription | null,
  o: { day?: string } = {},
): StatDelta[] {
  const b = contribution(before);
  const a = contribution(after);
  const out = new Map<string, StatDelta>();
  const add = (key: Deno.KvKey, delta: number) => {
    const id = JSON.stringify(key);
    out.set(id, { key, delta: (out.get(id)?.delta ?? 0) + delta });
  };
  add(projectStatKeys.subsActive(pk), a.active - b.active);
  add(projectStatKeys.subsCanceling(pk), a.canceling - b.canceling);
  add(projectStatKeys.subsTrialing(pk), a.trialing - b.trialing);
  add(projectStatKeys.mrr(pk), a.mrr - b.mrr);
  if (before && b.paying) {
    add(projectStatKeys.tierSubscribers(pk, before.tierId), -1);
    add(projectStatKeys.priceSubscribers(pk, before.tierId, before.priceId), -1);
  }
  if (after && a.paying) {
    add(projectStatKeys.tierSubscribers(pk, after.tierId), 1);
    add(projectStatKeys.priceSubscribers(pk, after.tierId, after.priceId), 1);
  }
  if (o.day) {
    // the trends: subscriptions started and ended that day, and how MRR moved
    add(projectStatKeys.day(pk, o.day, "subs_new"), a.active > b.active ? 1 : 0);
    add(projectStatKeys.day(pk, o.day, "subs_canceled"), b.active > a.active ? 1 : 0);
    add(projectStatKeys.day(pk, o.day, "mrr_delta"), a.mrr - b.mrr);
  }
  return [...out.values()].filter((d) => d.delta !== 0);
}
