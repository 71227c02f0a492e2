/** Dashboard metrics from aggregates (never scans): O(1) KV reads per project. */
import { projectCurrency } from "@/lib/catalog/tiers.ts";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import {
  countCustomers,
  dayFigures,
  salesStats,
  subscriptionStats,
  usageInMonth,
  usageSeries,
} from "@/lib/kv/project_stats.ts";
import { dayKey, monthKey } from "@/lib/period.ts";
import { ValidationError } from "@/lib/errors.ts";
import { listEvents } from "@/lib/kv/events.ts";
import { overageRevenue } from "@/lib/kv/overage.ts";
import { listProjects as kvListProjects } from "@/lib/kv/projects.ts";

export const LOW_STOCK = 5;

/** Store stock figures, derived from the product list (a handful of products, not customers). */
export function stockMetrics(p: Project) {
  let inStock = 0, lowStock = 0, soldOut = 0;
  for (const t of p.tiers) {
    if (t.inventory === null) continue;
    inStock += t.inventory;
    if (t.inventory <= 0) soldOut++;
    else if (t.inventory <= LOW_STOCK) lowStock++;
  }
  return { inStock, lowStock, soldOut };
}

/** The contract's dashboard metrics for a SaaS or Store project. */
export async function projectMetrics(s: Services, p: Project) {
  const now = s.clock.now();
  if (p.type === "saas") {
    const subs = await subscriptionStats(s.kv, p.pk);
    return {
      type: "saas" as const,
      activeSubscriptions: subs.active,
      canceling: subs.canceling,
      trialing: subs.trialing,
      mrr: subs.mrr,
      overageRevenue: await overageRevenue(s.kv, p.pk),
      usageThisPeriod: await usageInMonth(s.kv, p.pk, monthKey(now)),
      customers: await countCustomers(s.kv, p.pk),
      currency: projectCurrency(p),
    };
  }
  const { sales, revenue } = await salesStats(s.kv, p.pk);
  return {
    type: "store" as const,
    sales,
    revenue,
    ...stockMetrics(p),
    currency: projectCurrency(p),
  };
}

/**
 * The developer's totals over all their projects in one mode (`GET /api/dashboard/totals`):
 * a few aggregate reads per project, never a scan of customers. Amounts in cents; `currency`
 * is null when the projects use more than one, and `byCurrency` splits the amounts.
 */
export async function developerTotals(
  s: Services,
  o: { platformId: string; mode: Project["mode"] },
) {
  const projects = (await kvListProjects(s.kv, o.platformId)).filter((p) => p.mode === o.mode);
  const totals = {
    mode: o.mode,
    projects: projects.length,
    customers: 0,
    activeSubscriptions: 0,
    mrr: 0,
    sales: 0,
    revenue: 0,
    currency: null as string | null,
    byCurrency: {} as Record<string, { mrr: number; revenue: number }>,
  };
  const metrics = await Promise.all(projects.map((p) => projectMetrics(s, p)));
  for (const m of metrics) {
    const cur = totals.byCurrency[m.currency] ??= { mrr: 0, revenue: 0 };
    if (m.type === "saas") {
      totals.customers += m.customers;
      totals.activeSubscriptions += m.activeSubscriptions;
      totals.mrr += m.mrr;
      cur.mrr += m.mrr;
    } else {
      totals.sales += m.sales;
      totals.revenue += m.revenue;
      cur.revenue += m.revenue;
    }
  }
  const currencies = Object.keys(totals.byCurrency);
  totals.currency = currencies.length === 1 ? currencies[0]! : currencies.length ? null : "usd";
  return totals;
}

const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** Daily usage totals for `from`..`to` (default: the last 30 days), zero-filled. */
/**
 * The daily trends from `from` to `to` (default: the last 30 days): usage, MRR at the end of
 * each day, revenue net of refunds, new customers, new and canceled subscriptions. Reads the
 * daily figures from `from` to today, so the cost grows with days, never with customers; MRR of
 * a past day is today's less the moves after it. Days before this version have zeros (MRR
 * excepted: it is carried back).
 */
export async function trendSeries(
  s: Services,
  p: Project,
  range: { from?: string | undefined; to?: string | undefined } = {},
) {
  const usage = await usageTimeSeries(s, p, range);
  const fromDay = usage[0]!.day, toDay = usage.at(-1)!.day;
  // the days with figures from the first asked for on (sparse: only days something happened)
  const figures = await dayFigures(s.kv, p.pk, { from: fromDay, to: "9999-12-31" });
  // MRR at the end of day D = today's less the moves of the days after D: today's less the
  // moves after the range, then walked back over the range's days alone (at most 367 steps,
  // however long ago the range is)
  let mrr = (await subscriptionStats(s.kv, p.pk)).mrr;
  for (const [day, f] of figures) if (day > toDay) mrr -= f.mrr_delta ?? 0;
  const mrrAt = new Map<string, number>();
  for (let i = usage.length - 1; i >= 0; i--) {
    const day = usage[i]!.day;
    mrrAt.set(day, mrr);
    mrr -= figures.get(day)?.mrr_delta ?? 0;
  }
  return usage.map(({ day, count }) => {
    const f = figures.get(day) ?? {};
    return {
      date: day,
      usage: count,
      mrr: mrrAt.get(day)!,
      revenue: (f.revenue ?? 0) - (f.refunded ?? 0),
      newCustomers: f.customers ?? 0,
      newSubscriptions: f.subs_new ?? 0,
      canceledSubscriptions: f.subs_canceled ?? 0,
    };
  });
}

export async function usageTimeSeries(
  s: Services,
  p: Project,
  range: { from?: string | undefined; to?: string | undefined } = {},
) {
  const { from, to } = range;
  const now = s.clock.now();
  const toDay = to ?? dayKey(now);
  const fromDay = from ?? dayKey(now - 29 * 86_400_000);
  for (const [field, v] of [["from", fromDay], ["to", toDay]] as const) {
    // a calendar day (2026-02-30 is not one, though Date.parse takes it as March 2)
    if (!DAY_RE.test(v) || Number.isNaN(Date.parse(v)) || dayKey(Date.parse(v)) !== v) {
      throw new ValidationError(`Invalid ${field}: expected YYYY-MM-DD`, [{
        field,
        message: "expected YYYY-MM-DD",
      }]);
    }
  }
  const start = Date.parse(fromDay), end = Date.parse(toDay);
  if (end < start || end - start > 366 * 86_400_000) {
    throw new ValidationError("Invalid range: from must be before to, at most 366 days", [
      { field: "from", message: "range must be 0–366 days" },
    ]);
  }
  const got = new Map(
    (await usageSeries(s.kv, p.pk, { from: fromDay, to: toDay })).map((r) => [r.day, r.count]),
  );
  const out: { day: string; count: number }[] = [];
  for (let t = start; t <= end; t += 86_400_000) {
    const d = dayKey(t);
    out.push({ day: d, count: got.get(d) ?? 0 });
  }
  return out;
}

/** One page of a project's event log, newest first: what the events list (JSON and page) shows. */
export async function eventPage(
  s: Pick<Services, "kv">,
  project: Project,
  o: { limit?: number | undefined; cursor?: string | undefined; type?: string | undefined },
) {
  const page = await listEvents(s.kv, project.pk, {
    limit: o.limit ?? 25,
    ...(o.cursor ? { cursor: o.cursor } : {}),
    ...(o.type ? { type: o.type } : {}),
  });
  return { events: page.items, nextCursor: page.nextCursor };
}
