/** Per-project aggregates kept with `sum` in the same commit as the change they count. */
import type { Project } from "@/lib/kv/projects.ts";

export const projectStatKeys = {
  customersCreated: (pk: string) => ["project_stats", pk, "customers_created"] as const,
  customersDeleted: (pk: string) => ["project_stats", pk, "customers_deleted"] as const,
  /** Usage events per calendar month ("2026-11"). */
  usageMonth: (pk: string, month: string) => ["usage_monthly", pk, month] as const,
  /** Usage events per UTC day ("2026-11-24"): the time series. */
  usageDay: (pk: string, day: string) => ["usage_daily", pk, day] as const,
  /** Subscription aggregates (numbers, read → check → set with the subscription they summarise). */
  subsActive: (pk: string) => ["project_stats", pk, "subs_active"] as const,
  subsCanceling: (pk: string) => ["project_stats", pk, "subs_canceling"] as const,
  /** Subscriptions in their free trial (not in `subsActive`, not in MRR). */
  subsTrialing: (pk: string) => ["project_stats", pk, "subs_trialing"] as const,
  mrr: (pk: string) => ["project_stats", pk, "mrr"] as const,
  /** Paying subscriptions (active, trialing, past due) per tier: a tier in use can't be deleted. */
  tierSubscribers: (pk: string, tierId: string) =>
    ["project_stats", pk, "tier_subscribers", tierId] as const,
  /** Overage billed at period ends, in minor units (KvU64). */
  overageRevenue: (pk: string) => ["project_stats", pk, "overage_revenue"] as const,
  /** Paying subscriptions per tier and price: who is on an older price (grandfathered). */
  priceSubscribers: (pk: string, tierId: string, priceId: string) =>
    ["project_stats", pk, "price_subscribers", tierId, priceId] as const,
  listPriceSubscribers: (pk: string, tierId: string) =>
    ["project_stats", pk, "price_subscribers", tierId] as const,
  /** Promotion codes: redemptions per code (`[...coupons(pk), code]`, KvU64). */
  coupons: (pk: string) => ["project_stats", pk, "coupon_redemptions"] as const,
  /** Store aggregates: completed payments and their total in minor units. */
  sales: (pk: string) => ["project_stats", pk, "sales"] as const,
  revenue: (pk: string) => ["project_stats", pk, "revenue"] as const,
  /** What was refunded of the revenue (revenue is shown net of it). */
  refunded: (pk: string) => ["project_stats", pk, "refunded"] as const,
  /**
   * Per UTC day ("2026-11-24"), for the trends: `customers`, `revenue`, `refunded` (KvU64 sums)
   * and `subs_new`, `subs_canceled`, `mrr_delta` (numbers moved with the subscription commit).
   */
  day: (pk: string, day: string, field: DayField) => ["project_stats_day", pk, day, field] as const,
  listDays: (pk: string) => ["project_stats_day", pk] as const,
};

export type DayField =
  | "customers"
  | "revenue"
  | "refunded"
  | "subs_new"
  | "subs_canceled"
  | "mrr_delta"
  | "overage";

/** Every day figure from `from` to `to` (inclusive), by day then field; absent days are empty. */
export async function dayFigures(
  kv: Deno.Kv,
  pk: string,
  range: { from: string; to: string },
): Promise<Map<string, Partial<Record<DayField, number>>>> {
  const out = new Map<string, Partial<Record<DayField, number>>>();
  const iter = kv.list({
    start: [...projectStatKeys.listDays(pk), range.from],
    end: [...projectStatKeys.listDays(pk), range.to, "\u{10FFFF}"],
  });
  for await (const e of iter) {
    const day = String(e.key[2]);
    const field = String(e.key[3]) as DayField;
    const v = e.value instanceof Deno.KvU64 ? Number(e.value.value) : num(e.value);
    const row = out.get(day) ?? {};
    row[field] = v;
    out.set(day, row);
  }
  return out;
}

/** A change of one number aggregate by `delta` (active, canceling, MRR, a tier's payers …). */
export interface StatDelta {
  key: Deno.KvKey;
  delta: number;
}

/** The aggregates to change, read now with their new values, for a checked write. */
export async function readStatMoves(
  kv: Deno.Kv,
  deltas: StatDelta[],
): Promise<{ entry: Deno.KvEntryMaybe<unknown>; value: number }[]> {
  if (deltas.length === 0) return [];
  const cur = await kv.getMany<unknown[]>(deltas.map((d) => d.key));
  return deltas.map((d, i) => ({ entry: cur[i]!, value: num(cur[i]!.value) + d.delta }));
}

/** Adds the moves read by `readStatMoves` to a commit, checked on what was read. */
export function writeStatMoves(
  op: Deno.AtomicOperation,
  moves: { entry: Deno.KvEntryMaybe<unknown>; value: number }[],
): Deno.AtomicOperation {
  for (const m of moves) op = op.check(m.entry).set(m.entry.key, m.value);
  return op;
}

const num = (v: unknown) => (typeof v === "number" ? v : 0);

/** The subscription aggregates of a SaaS project. */
export async function subscriptionStats(kv: Deno.Kv, pk: string) {
  const [active, canceling, mrr, trialing] = await kv.getMany([
    projectStatKeys.subsActive(pk),
    projectStatKeys.subsCanceling(pk),
    projectStatKeys.mrr(pk),
    projectStatKeys.subsTrialing(pk),
  ]);
  return {
    active: num(active!.value),
    canceling: num(canceling!.value),
    mrr: num(mrr!.value),
    trialing: num(trialing!.value),
  };
}

/** The sales aggregates of a Store project (completed payments, their total). */
export async function salesStats(kv: Deno.Kv, pk: string) {
  const [sales, revenue, refunded] = await kv.getMany([
    projectStatKeys.sales(pk),
    projectStatKeys.revenue(pk),
    projectStatKeys.refunded(pk),
  ]);
  return {
    sales: u64(sales!.value),
    revenue: u64(revenue!.value) - u64(refunded!.value),
    refunded: u64(refunded!.value),
  };
}

function u64(v: unknown): number {
  return v instanceof Deno.KvU64 ? Number(v.value) : 0;
}

/** How many paying subscriptions are on a tier now. */
/** The key of the count of paying subscribers of a project's tier named `name`, if it has one. */
export function tierPayersKey(p: Project, name: string): Deno.KvKey | null {
  const tier = p.tiers.find((t) => t.name === name);
  return tier ? projectStatKeys.tierSubscribers(p.pk, tier.id) : null;
}

export async function tierSubscribers(kv: Deno.Kv, pk: string, tierId: string): Promise<number> {
  const v = (await kv.get(projectStatKeys.tierSubscribers(pk, tierId))).value;
  return typeof v === "number" ? v : 0;
}

/** Number of customers now: created minus deleted, both only-growing counters. */
export async function countCustomers(kv: Deno.Kv, pk: string): Promise<number> {
  const [c, d] = await kv.getMany([
    projectStatKeys.customersCreated(pk),
    projectStatKeys.customersDeleted(pk),
  ]);
  return u64(c?.value) - u64(d?.value);
}

export async function usageInMonth(kv: Deno.Kv, pk: string, month: string): Promise<number> {
  return u64((await kv.get(projectStatKeys.usageMonth(pk, month))).value);
}

/** Daily usage totals between two days inclusive ("YYYY-MM-DD"). */
export async function usageSeries(
  kv: Deno.Kv,
  pk: string,
  range: { from: string; to: string },
): Promise<{ day: string; count: number }[]> {
  const out: { day: string; count: number }[] = [];
  const iter = kv.list({
    start: projectStatKeys.usageDay(pk, range.from),
    end: [...projectStatKeys.usageDay(pk, range.to), ""],
  });
  for await (const e of iter) out.push({ day: String(e.key[2]), count: u64(e.value) });
  return out;
}

/** Paying subscribers of a tier by price id (positive counts only). */
export async function priceSubscribers(
  kv: Deno.Kv,
  pk: string,
  tierId: string,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (
    const e of kv.list<number>({ prefix: projectStatKeys.listPriceSubscribers(pk, tierId) })
  ) {
    const n = num(e.value);
    if (n > 0) out.set(String(e.key.at(-1)), n);
  }
  return out;
}
