/** /v1/projects/:pk/orders and /v1/projects/:pk/orders/:id — a Store's orders (developer API). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Email } from "@/lib/schemas.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject, requireType } from "@/lib/projects/projects.ts";
import {
  buyerOrders,
  orderPage,
  publicOrder,
  RefundInputSchema,
  refundOrder,
  requireOrder,
} from "@/lib/store/orders.ts";
import {
  DEVELOPER,
  ERRORS,
  jsonRequest,
  ok,
  OrderPageSchema,
  OrderSchema,
  PageQuery,
  PkParam,
  PROVIDER_ERRORS,
} from "@/routes/_openapi.ts";

const base = { tags: ["Orders"], security: DEVELOPER, middleware: [developerAuth()] };

const OrderIdParam = PkParam.extend({
  id: z.string().max(100).openapi({ param: { name: "id", in: "path" } }),
});

const list = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/orders",
  summary: "A Store's orders, newest first, with cursor pagination; `email` gives one buyer's",
  request: {
    params: PkParam,
    query: PageQuery.extend({
      email: Email.optional().openapi({
        description: "Only this buyer's orders, newest first, in pages with `nextCursor`",
      }),
    }),
  },
  responses: { 200: ok(OrderPageSchema), ...ERRORS },
});

const read = createRoute({
  ...base,
  method: "get",
  path: "/v1/projects/{pk}/orders/{id}",
  summary: "One order: buyer, items, amounts, status",
  request: { params: OrderIdParam },
  responses: { 200: ok(z.object({ order: OrderSchema })), ...ERRORS },
});

const refund = createRoute({
  ...base,
  method: "post",
  path: "/v1/projects/{pk}/orders/{id}/refund",
  summary: "Refund an order through the payment provider (all that is left unless `amount`)",
  description: "`restock: true` gives the order's items back to stock (once per order). " +
    "Revenue is shown net of refunds. More than is left is 422.",
  request: { params: OrderIdParam, body: jsonRequest(RefundInputSchema.openapi("RefundInput")) },
  responses: { 200: ok(z.object({ order: OrderSchema })), ...ERRORS, ...PROVIDER_ERRORS },
});

export function mountOrderRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, async (c) => {
    const s = c.get("services");
    const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
    requireType(p, "store");
    const q = c.req.valid("query");
    return c.json(
      q.email
        ? await buyerOrders(s, p, { email: q.email, limit: q.limit, cursor: q.cursor })
        : await orderPage(s, p, q),
      200,
    );
  });
  app.openapi(read, async (c) => {
    const s = c.get("services");
    const { pk, id } = c.req.valid("param");
    const p = await ownedProject(s, c.get("developer").id, pk);
    requireType(p, "store");
    return c.json({ order: publicOrder(await requireOrder(s, p, id)) }, 200);
  });
  app.openapi(refund, async (c) => {
    const s = c.get("services");
    const { pk, id } = c.req.valid("param");
    const dev = c.get("developer");
    const p = await ownedProject(s, dev.id, pk);
    requireType(p, "store");
    const order = await refundOrder(s, p, {
      id,
      input: c.req.valid("json"),
      actor: c.get("actor"),
    });
    return c.json({ order: publicOrder(order) }, 200);
  });
}
