/** /v1/projects/:pk/metrics — the daily trends (developer API). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject } from "@/lib/projects/projects.ts";
import { trendSeries } from "@/lib/dashboard/metrics.ts";
import { DEVELOPER, ERRORS, ok, PkParam } from "@/routes/_openapi.ts";

const DaySchema = z.object({
  date: z.string().openapi({ example: "2026-11-24" }),
  usage: z.number().int(),
  mrr: z.number().int().openapi({ description: "At the end of the day, minor units per month" }),
  revenue: z.number().int().openapi({ description: "Paid that day, net of refunds made that day" }),
  newCustomers: z.number().int(),
  newSubscriptions: z.number().int(),
  canceledSubscriptions: z.number().int(),
}).openapi("TrendDay");

const metrics = createRoute({
  tags: ["Projects"],
  security: DEVELOPER,
  middleware: [developerAuth()],
  method: "get",
  path: "/v1/projects/{pk}/metrics",
  summary: "Daily trends (default: the last 30 days; at most 366)",
  request: {
    params: PkParam,
    query: z.object({
      from: z.string().max(10).optional().openapi({ example: "2026-11-01" }),
      to: z.string().max(10).optional().openapi({ example: "2026-11-30" }),
    }),
  },
  responses: { 200: ok(z.object({ days: z.array(DaySchema) })), ...ERRORS },
});

export function mountMetricsRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(metrics, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    return c.json({ days: await trendSeries(s, p, c.req.valid("query")) }, 200);
  });
}
