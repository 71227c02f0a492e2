/** /dashboard/projects/:pk/events — the event log. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Table } from "@/components/Table.tsx";
import { eventPage } from "@/lib/dashboard/metrics.ts";
import { page, Pager, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountEventsPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/events",
    page((c, dev) =>
      projectPage(c, { dev, section: "/events", title: "Events" }, async (p) => {
        const cursor = c.req.query("cursor");
        const pg = await eventPage(c.get("services"), p, { cursor });
        return (
          <>
            <Table
              columns={["When", "Type", "What", "Outcome"]}
              rows={pg.events.map((e) => [
                new Date(e.created * 1000).toISOString().replace("T", " ").slice(0, 19),
                <code key="type">{e.type}</code>,
                e.summary,
                e.outcome,
              ])}
            />
            {pg.events.length === 0 && <p>No events yet.</p>}
            <Pager next={pg.nextCursor} base={`/dashboard/projects/${p.pk}/events`} />
          </>
        );
      })
    ),
  );
}
