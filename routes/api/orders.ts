/** /api/orders — a Store's orders for its own secret key. */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth } from "@/lib/http/middleware/api_auth.ts";
import { requireType } from "@/lib/projects/projects.ts";
import { orderPage } from "@/lib/store/orders.ts";
import { ERRORS, ok, OrderPageSchema, PageQuery, SECRET } from "@/routes/_openapi.ts";

const list = createRoute({
  method: "get",
  path: "/api/orders",
  tags: ["Store"],
  summary: "This Store's orders, newest first, with cursor pagination",
  security: SECRET,
  middleware: [apiAuth({ accept: "secret" })],
  request: { query: PageQuery },
  responses: { 200: ok(OrderPageSchema), ...ERRORS },
});

export function mountApiOrderRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const { project } = c.get("api");
    requireType(project, "store");
    return c.json(await orderPage(c.get("services"), project, c.req.valid("query")), 200);
  });
}
