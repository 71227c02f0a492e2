/** /api/dashboard — the project's metrics for its own secret key. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth } from "@/lib/http/middleware/api_auth.ts";
import { projectMetrics } from "@/lib/dashboard/metrics.ts";
import { ERRORS, ok, SECRET } from "@/routes/_openapi.ts";

export const DashboardSchema = z.union([
  z.object({
    type: z.literal("saas"),
    activeSubscriptions: z.number().int(),
    canceling: z.number().int(),
    mrr: z.number().int().openapi({ description: "Cents per month; yearly tiers count /12" }),
    usageThisPeriod: z.number().int(),
    customers: z.number().int(),
    currency: z.string(),
  }),
  z.object({
    type: z.literal("store"),
    sales: z.number().int(),
    revenue: z.number().int(),
    inStock: z.number().int(),
    lowStock: z.number().int(),
    soldOut: z.number().int(),
    currency: z.string(),
  }),
]).openapi("Dashboard");

const read = createRoute({
  method: "get",
  path: "/api/dashboard",
  tags: ["Dashboard"],
  summary: "Metrics of this project",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  responses: { 200: ok(DashboardSchema), ...ERRORS },
});

export function mountDashboardRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    read,
    async (c) => c.json(await projectMetrics(c.get("services"), c.get("api").project), 200),
  );
}
