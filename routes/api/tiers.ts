/** /api/tiers — the project's tiers for a pricing page (public pk). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth } from "@/lib/http/middleware/api_auth.ts";
import { offeredTiers, publicTier } from "@/lib/catalog/tiers.ts";
import { ERRORS, ok, PUBLIC, TierSchema } from "@/routes/_openapi.ts";

const list = createRoute({
  method: "get",
  path: "/api/tiers",
  tags: ["Catalog"],
  summary: "The project's tiers, in display order",
  security: PUBLIC,
  middleware: [apiAuth({ accept: "public" })],
  responses: {
    200: ok(z.object({ type: z.enum(["saas", "store"]), tiers: z.array(TierSchema) })),
    ...ERRORS,
  },
});

export function mountTierRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, (c) => {
    const { project } = c.get("api");
    return c.json(
      { type: project.type, tiers: offeredTiers(project).map((t) => publicTier(project, t)) },
      200,
    );
  });
}
