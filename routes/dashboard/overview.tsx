/** /dashboard/projects/:pk — metrics and the usage chart. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { MetricCard, money } from "@/components/MetricCard.tsx";
import { Island } from "@/lib/http/render.tsx";
import { projectMetrics, trendSeries } from "@/lib/dashboard/metrics.ts";
import { dayKey } from "@/lib/period.ts";
import UsageChart from "@/islands/UsageChart.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountOverviewPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk",
    page((c, dev) =>
      projectPage(c, { dev, section: "", title: "Overview" }, async (p) => {
        const s = c.get("services");
        const m = await projectMetrics(s, p);
        // the range: 7, 30 or 90 days back from today, or a custom from/to (checked by trendSeries)
        const days = ["7", "30", "90"].includes(c.req.query("range") ?? "")
          ? Number(c.req.query("range"))
          : 30;
        const today = dayKey(s.clock.now());
        const from = c.req.query("from") || dayKey(s.clock.now() - (days - 1) * 86_400_000);
        const to = c.req.query("to") || today;
        const trend = await trendSeries(s, p, { from, to });
        const pick = (k: "usage" | "mrr" | "revenue") =>
          trend.map((d) => ({ day: d.date, count: d[k] }));
        const series = pick("usage");
        const base = `/dashboard/projects/${p.pk}`;
        const ranges = (
          <nav aria-label="Chart range" class="ranges">
            {[7, 30, 90].map((n) => (
              <a
                key={n}
                href={`${base}?range=${n}`}
                aria-current={!c.req.query("from") && n === days ? "page" : undefined}
              >
                {n} days
              </a>
            ))}
            <form method="get" action={base} class="inline">
              <label for="range-from">
                From <input id="range-from" name="from" type="date" value={from} />
              </label>{" "}
              <label for="range-to">
                To <input id="range-to" name="to" type="date" value={to} />
              </label>{" "}
              <button type="submit" class="secondary">Show</button>
            </form>
          </nav>
        );
        return m.type === "saas"
          ? (
            <>
              <dl class="metrics">
                <MetricCard
                  label="Active subscriptions"
                  value={m.activeSubscriptions}
                  testId="m-active"
                />
                <MetricCard label="Canceling" value={m.canceling} testId="m-canceling" />
                <MetricCard label="In trial" value={m.trialing} testId="m-trialing" />
                <MetricCard
                  label="Overage billed"
                  value={money(m.overageRevenue, m.currency)}
                  testId="m-overage"
                />
                <MetricCard label="MRR" value={money(m.mrr, m.currency)} testId="m-mrr" />
                <MetricCard label="Usage this period" value={m.usageThisPeriod} testId="m-usage" />
                <MetricCard label="Customers" value={m.customers} testId="m-customers" />
              </dl>
              {ranges}
              <Island name="UsageChart" component={UsageChart} props={{ series }} />
              <Island
                name="UsageChart"
                component={UsageChart}
                props={{
                  series: pick("mrr"),
                  title: "MRR",
                  unit: "MRR",
                  currency: m.currency,
                  testPrefix: "mrr",
                  summary: "last" as const,
                }}
              />
            </>
          )
          : (
            <>
              <dl class="metrics">
                <MetricCard label="Sales" value={m.sales} testId="m-sales" />
                <MetricCard
                  label="Revenue"
                  value={money(m.revenue, m.currency)}
                  testId="m-revenue"
                />
                <MetricCard label="In stock" value={m.inStock} testId="m-instock" />
                <MetricCard label="Low stock" value={m.lowStock} testId="m-lowstock" />
                <MetricCard label="Sold out" value={m.soldOut} testId="m-soldout" />
              </dl>
              {ranges}
              <Island
                name="UsageChart"
                component={UsageChart}
                props={{
                  series: pick("revenue"),
                  title: "Revenue per day",
                  unit: "revenue",
                  currency: m.currency,
                  testPrefix: "revenue",
                }}
              />
            </>
          );
      })
    ),
  );
}
