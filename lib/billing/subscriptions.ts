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
 * How the project's aggregates move when a customer's subscription goes from `before` to
 * `after` (either may be null): active, canceling, MRR and the paying count of each tier
 * involved. Keys with no change are left out.
 */
export function aggregateDeltas(
  pk: string,
  before: Subscription | null,
  after: Subscription | null,
): { key: Deno.KvKey; delta: number }[] {
  const b = contribution(before);
  const a = contribution(after);
  const out = new Map<string, { key: Deno.KvKey; delta: number }>();
  const add = (key: Deno.KvKey, delta: number) => {
    const id = JSON.stringify(key);
    const cur = out.get(id) ?? { key, delta: 0 };
    out.set(id, { key, delta: cur.delta + delta });
  };
  add(projectStatKeys.subsActive(pk), a.active - b.active);
  add(projectStatKeys.subsCanceling(pk), a.canceling - b.canceling);
  add(projectStatKeys.mrr(pk), a.mrr - b.mrr);
  if (before && b.active) add(projectStatKeys.tierSubscribers(pk, before.tierId), -1);
  if (after && a.active) add(projectStatKeys.tierSubscribers(pk, after.tierId), 1);
  return [...out.values()].filter((d) => d.delta !== 0);
}

/**
 * The aggregates a move from `before` to `after` changes, read now with their new values:
 * `writeAggregates` adds them to a commit, checked on the versionstamps read here.
 */
async function readAggregates(
  kv: Deno.Kv,
  pk: string,
  before: Subscription | null,
  after: Subscription | null,
): Promise<{ entry: Deno.KvEntryMaybe<unknown>; value: number }[]> {
  const deltas = aggregateDeltas(pk, before, after);
  if (deltas.length === 0) return [];
  const cur = await kv.getMany<unknown[]>(deltas.map((d) => d.key));
  return deltas.map((d, i) => ({ entry: cur[i]!, value: num(cur[i]!.value) + d.delta }));
}

function writeAggregates(
  op: Deno.AtomicOperation,
  moves: { entry: Deno.KvEntryMaybe<unknown>; value: number }[],
): Deno.AtomicOperation {
  for (const m of moves) op = op.check(m.entry).set(m.entry.key, m.value);
  return op;
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
 * The customer, the aggregates and (when given) the event claim are written in one atomic
 * commit checked on all their versionstamps; a duplicate event changes nothing, and neither
 * does any event about a subscription that ended with its customer's deletion.
 * Returns "applied", "stale" (an older or ended state), "duplicate" or "no_customer".
 */
export function applySubscription(
  s: Services,
  project: Project,
  customerId: string,
  sub: Subscription,
  opts: { eventId?: string; providerCustomerId?: string } = {},
): Promise<"applied" | "stale" | "duplicate" | "no_customer"> {
  const pk = project.pk;
  return retryAtomic("apply the subscription", async () => {
    const claimKey = opts.eventId ? eventKeys.claim(opts.eventId) : null;
    const [cust, ended, claim] = await s.kv.getMany<unknown[]>([
      customerKeys.byId(pk, customerId),
      customerKeys.endedSubscription(pk, sub.id),
      ...(claimKey ? [claimKey] : []),
    ]);
    if (claim?.value) return "duplicate" as const;
    const c = cust!.value as Customer | null;
    let op = s.kv.atomic().check(ended!);
    if (claimKey) {
      op = op.check({ key: claimKey, versionstamp: null }).set(claimKey, { at: s.clock.now() }, {
        expireIn: 30 * 86_400_000,
      });
    }
    if (!c) {
      const res = await op.commit();
      return res.ok ? "no_customer" as const : RETRY;
    }
    if (ended!.value || !supersedes(c.subscription, sub)) {
      const res = await op.commit();
      return res.ok ? "stale" as const : RETRY;
    }
    const next: Customer = {
      ...c,
      subscription: sub,
      providerCustomerId: opts.providerCustomerId ?? c.providerCustomerId,
    };
    const moves = await readAggregates(s.kv, pk, c.subscription, sub);
    const res = await writeAggregates(op.check(cust!).set(cust!.key, next), moves).commit();
    if (!res.ok) return RETRY;
    s.caches.customers.set(`${pk}\u0000${customerId}`, next);
    return "applied" as const;
  });
}

/** How long an ended subscription's events are recognised and ignored after its customer left. */
const ENDED_TTL_MS = 400 * 86_400_000;

/**
 * Deletes a customer's record in one checked commit with what it counted: the aggregates drop
 * its subscription at once, and the subscription is marked ended, so later events about it
 * (even for a new customer with the same id) change nothing. False when there was none.
 */
export function removeCustomerRecord(s: Services, pk: string, id: string): Promise<boolean> {
  return retryAtomic("delete the customer", async () => {
    const cur = await s.kv.get<Customer>(customerKeys.byId(pk, id));
    if (!cur.value) return false;
    const sub = cur.value.subscription;
    let op = s.kv.atomic().check(cur)
      .delete(cur.key)
      .delete(customerKeys.byCreated(pk, cur.value.listId))
      .sum(projectStatKeys.customersDeleted(pk), 1n);
    if (sub) {
      op = op.set(customerKeys.endedSubscription(pk, sub.id), { customerId: id }, {
        expireIn: ENDED_TTL_MS,
      });
    }
    const moves = await readAggregates(s.kv, pk, sub, null);
    return (await writeAggregates(op, moves).commit()).ok ? true : RETRY;
  });
}

/**
 * Records the provider's customer id on our customer (first checkout), and the email given at
 * checkout when we had none.
 */
export function linkProviderCustomer(
  s: Services,
  pk: string,
  customerId: string,
  providerCustomerId: string,
  email: string | null = null,
) {
  return retryAtomic("link the customer", async () => {
    const cur = await s.kv.get<Customer>(customerKeys.byId(pk, customerId));
    if (!cur.value) return null;
    const newEmail = cur.value.email ?? email;
    if (cur.value.providerCustomerId === providerCustomerId && newEmail === cur.value.email) {
      return null;
    }
    const next = { ...cur.value, providerCustomerId, email: newEmail };
    const res = await s.kv.atomic().check(cur).set(cur.key, next).commit();
    if (!res.ok) return RETRY;
    s.caches.customers.set(`${pk}\u0000${customerId}`, next);
    return next;
  });
}
