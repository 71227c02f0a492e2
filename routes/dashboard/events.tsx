/** /dashboard/projects/:pk/events — the event log. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Table } from "@/components/Table.tsx";
import { eventPage } from "@/lib/dashboard/metrics.ts";
import { page, Pager, projectPage } from "@/routes/dashboard/_page.tsx";

/** The types the filter offers: the provider's events we act on and the developer actions. */
const TYPES = [
  "checkout.session.completed",
  "checkout.session.expired",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.paid",
  "invoice.payment_failed",
  "charge.refunded",
  "order.refunded",
  "customer.usage_reset",
  "customer.deleted",
  "subscription.canceled",
  "key.rotated",
  "tier.created",
  "tier.updated",
  "tier.archived",
  "tier.deleted",
  "project.updated",
  "project.promoted",
];

export function mountEventsPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/events",
    page((c, dev) =>
      projectPage(c, { dev, section: "/events", title: "Events" }, async (p) => {
        const cursor = c.req.query("cursor");
        const type = TYPES.find((t) => t === c.req.query("type"));
        const pg = await eventPage(c.get("services"), p, { cursor, ...(type ? { type } : {}) });
        const base = `/dashboard/projects/${p.pk}/events`;
        return (
          <>
            <form method="get" class="inline">
              <label for="event-type">
                Type
                <select id="event-type" name="type">
                  <option value="">All events</option>
                  {TYPES.map((t) => <option key={t} value={t} selected={t === type}>{t}</option>)}
                </select>
              </label>
              <button type="submit" class="secondary">Filter</button>
            </form>
            <Table
              columns={["When", "Type", "What", "Outcome"]}
              rows={pg.events.map((e) => [
                new Date(e.created * 1000).toISOString().replace("T", " ").slice(0, 19),
                <code key="type">{e.type}</code>,
                e.summary,
                e.outcome,
              ])}
            />
            {pg.events.length === 0 && <p>{type ? `No ${type} events.` : "No events yet."}</p>}
            <p>
              <a class="button secondary" href={`/v1/projects/${p.pk}/events.csv`} download>
                Download CSV
              </a>
            </p>
            <Pager next={pg.nextCursor} base={type ? `${base}?type=${type}` : base} />
          </>
        );
      })
    ),
  );
}
