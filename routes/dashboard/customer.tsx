/** /dashboard/projects/:pk/customers/:id — one customer. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { customerView, requireCustomer } from "@/lib/customers/customers.ts";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";
import { Island } from "@/lib/http/render.tsx";
import CustomerActions from "@/islands/CustomerActions.tsx";
import { PAID_STATUSES } from "@/lib/usage/plan.ts";
import { dayInWords } from "@/lib/period.ts";
import { usageHistory } from "@/lib/usage/history.ts";
import UsageChart from "@/islands/UsageChart.tsx";

/** "pro — active, renews on 2 Jan 2027" (or "cancels on …", "ended on …"). */
export function subscriptionInWords(
  sub: {
    tier: string | null;
    status: string;
    cancelAtPeriodEnd: boolean;
    currentPeriodEnd: string;
  },
): string {
  const end = dayInWords(Date.parse(sub.currentPeriodEnd));
  const when = sub.status === "canceled"
    ? `ended on ${end}`
    : sub.cancelAtPeriodEnd
    ? `cancels on ${end}`
    : `renews on ${end}`;
  return `${sub.tier ?? "—"} — ${sub.status}, ${when}`;
}

export function mountCustomerPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/customers/:id",
    page((c, dev) =>
      projectPage(c, { dev, section: "/customers", title: "Customer" }, async (p) => {
        const s = c.get("services");
        const customer = await requireCustomer(s, p.pk, c.req.param("id")!);
        const cu = await customerView(s, p, customer);
        const history = await usageHistory(s, p, { customer });
        const paying = !!cu.subscription && PAID_STATUSES.has(cu.subscription.status);
        return (
          <>
            <p>
              <a href={`/dashboard/projects/${p.pk}/customers`}>← All customers</a>
            </p>
            <dl class="detail">
              <dt>Id</dt>
              <dd>{cu.id}</dd>
              <dt>Email</dt>
              <dd>{cu.email ?? "—"}</dd>
              <dt>Plan</dt>
              <dd data-testid="customer-plan">{cu.plan ?? "—"}</dd>
              <dt>Subscription</dt>
              <dd>
                {cu.subscription ? subscriptionInWords(cu.subscription) : "none"}
              </dd>
              <dt>Usage this period</dt>
              <dd>
                {cu.usage.count}
                {cu.usage.limit === null ? " (unlimited)" : ` of ${cu.usage.limit}`}{" "}
                ({cu.usage.periodStart.slice(0, 10)} – {cu.usage.periodEnd.slice(0, 10)})
              </dd>
              {cu.usage.overage > 0 && (
                <>
                  <dt>Overage this period</dt>
                  <dd data-testid="customer-overage">
                    {cu.usage.overage}{" "}
                    calls past the limit, billed at the period's end (or when the subscription ends)
                  </dd>
                </>
              )}
            </dl>
            <Island
              name="UsageChart"
              component={UsageChart}
              props={{
                series: history.map((h) => ({ day: h.periodStart.slice(0, 10), count: h.count })),
                title: "Usage per billing period",
                testPrefix: "period-usage",
                spanWord: history.length === 1 ? "billing period" : "billing periods",
                xLabel: "Period start",
              }}
            />
            <Island
              name="CustomerActions"
              component={CustomerActions}
              props={{
                pk: p.pk,
                id: cu.id,
                paying,
                cancelsAtPeriodEnd: cu.subscription?.cancelAtPeriodEnd ?? false,
                overage: cu.usage.overage,
              }}
            />
          </>
        );
      })
    ),
  );
}
