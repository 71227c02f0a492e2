/** /api/dashboard — the project's metrics for its own secret key. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth } from "@/lib/http/middleware/api_auth.ts";
import { developerTotals, projectMetrics } from "@/lib/dashboard/metrics.ts";
import { ERRORS, ok, SECRET } from "@/routes/_openapi.ts";

export const DashboardSchema = z.union([
  z.object({
    type: z.literal("saas"),
    activeSubscriptions: z.number().int(),
    canceling: z.number().int(),
    overageRevenue: z.number().int().openapi({
      description: "Overage billed at period ends so far (minor units)",
    }),
    trialing: z.number().int().openapi({
      description: "Subscriptions in their free trial (not active yet, not in MRR)",
    }),
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

const TotalsSchema = z.object({
  mode: z.enum(["test", "live"]),
  projects: z.number().int(),
  customers: z.number().int(),
  activeSubscriptions: z.number().int(),
  mrr: z.number().int().openapi({ description: "Cents per month over all SaaS projects" }),
  sales: z.number().int(),
  revenue: z.number().int().openapi({ description: "Cents over all Store projects" }),
  currency: z.string().nullable().openapi({ description: "null when projects use several" }),
  byCurrency: z.record(z.string(), z.object({ mrr: z.number().int(), revenue: z.number().int() })),
}).openapi("DashboardTotals");

const totals = createRoute({
  method: "get",
  path: "/api/dashboard/totals",
  tags: ["Dashboard"],
  summary: "Totals over all of the developer's projects in this key's mode",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  responses: { 200: ok(TotalsSchema), ...ERRORS },
});

export function mountDashboardRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(
    read,
    async (c) => c.json(await projectMetrics(c.get("services"), c.get("api").project), 200),
  );
  app.openapi(totals, async (c) => {
    const { project } = c.get("api");
    return c.json(
      await developerTotals(c.get("services"), {
        platformId: project.platformId,
        mode: project.mode,
      }),
      200,
    );
  });
}
