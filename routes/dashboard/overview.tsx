/** /dashboard/projects/:pk — metrics and the usage chart. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { MetricCard, money } from "@/components/MetricCard.tsx";
import { Island } from "@/lib/http/render.tsx";
import { projectMetrics, usageTimeSeries } from "@/lib/dashboard/metrics.ts";
import UsageChart from "@/islands/UsageChart.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountOverviewPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk",
    page((c, dev) =>
      projectPage(c, { dev, section: "", title: "Overview" }, async (p) => {
        const s = c.get("services");
        const m = await projectMetrics(s, p);
        const series = await usageTimeSeries(s, p);
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
                <MetricCard label="MRR" value={money(m.mrr, m.currency)} testId="m-mrr" />
                <MetricCard label="Usage this period" value={m.usageThisPeriod} testId="m-usage" />
                <MetricCard label="Customers" value={m.customers} testId="m-customers" />
              </dl>
              <Island name="UsageChart" component={UsageChart} props={{ series }} />
            </>
          )
          : (
            <dl class="metrics">
              <MetricCard label="Sales" value={m.sales} testId="m-sales" />
              <MetricCard label="Revenue" value={money(m.revenue, m.currency)} testId="m-revenue" />
              <MetricCard label="In stock" value={m.inStock} testId="m-instock" />
              <MetricCard label="Low stock" value={m.lowStock} testId="m-lowstock" />
              <MetricCard label="Sold out" value={m.soldOut} testId="m-soldout" />
            </dl>
          );
      })
    ),
  );
}
