/** /api/products and /api/cart/checkout — the storefront of a Store project (public pk or sk). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth } from "@/lib/http/middleware/api_auth.ts";
import { appOrigin, clientAddress, ownOrigin } from "@/lib/http/request.ts";
import { returnUrls } from "@/lib/billing/return_urls.ts";
import { requireType } from "@/lib/projects/projects.ts";
import { CartInputSchema, checkoutCart, publicProduct } from "@/lib/store/cart.ts";
import { offeredTiers } from "@/lib/catalog/tiers.ts";
import {
  ERRORS,
  IdempotencyKeyHeader,
  jsonRequest,
  ok,
  PROVIDER_ERRORS,
  PUBLIC,
} from "@/routes/_openapi.ts";

const ProductSchema = z.object({
  id: z.string().openapi({ example: "prod_Qx1" }),
  name: z.string().openapi({ example: "mug" }),
  displayName: z.string().openapi({ example: "Mug" }),
  description: z.string().nullable(),
  price: z.number().int().openapi({ example: 1200 }),
  currency: z.string().openapi({ example: "usd" }),
  imageUrl: z.string().nullable(),
  inventory: z.number().int().nullable().openapi({ description: "null = unlimited" }),
  soldOut: z.boolean(),
  priceId: z.string().nullable(),
  productId: z.string().nullable(),
}).openapi("Product");

const list = createRoute({
  method: "get",
  path: "/api/products",
  tags: ["Store"],
  summary: "The store's products with stock and sold-out state",
  security: PUBLIC,
  middleware: [apiAuth({ accept: "public" })],
  responses: { 200: ok(z.object({ products: z.array(ProductSchema) })), ...ERRORS },
});

const cart = createRoute({
  method: "post",
  path: "/api/cart/checkout",
  tags: ["Store"],
  summary: "Checkout for a cart; stock is held until the session completes or expires",
  description:
    "Items by `priceId` or `productId`. Unknown or foreign items are 422; more than in stock is 409 " +
    "and nothing is reserved. Guests need no customer; the checkout page asks for the email if none is given. " +
    "One client address may hold at most `HOLDS_PER_CLIENT` (default 20) unpaid checkouts per project " +
    "at once; beyond that 429 `rate_limited`. An `Idempotency-Key` makes a retry answer the first " +
    "checkout again (`Idempotent-Replayed: true`) instead of holding stock twice; the same key with " +
    "another cart, or while the first request is still under way, is 409.",
  security: PUBLIC,
  middleware: [apiAuth({ accept: "public" })],
  request: {
    body: jsonRequest(CartInputSchema.openapi("CartInput")),
    headers: z.object({ "idempotency-key": IdempotencyKeyHeader }),
  },
  responses: {
    200: ok(
      z.object({
        url: z.string(),
        sessionId: z.string(),
        reservationId: z.string(),
        expiresAt: z.string(),
      }),
    ),
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

export function mountStoreRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(list, (c) => {
    const { project } = c.get("api");
    requireType(project, "store");
    return c.json({ products: offeredTiers(project).map(publicProduct) }, 200);
  });
  app.openapi(cart, async (c) => {
    const { project } = c.get("api");
    requireType(project, "store");
    const input = c.req.valid("json");
    const { replayed, ...out } = await checkoutCart(c.get("services"), project, {
      ...input,
      ...returnUrls("cart", input, appOrigin(c)),
      idempotencyKey: c.req.valid("header")["idempotency-key"],
      origin: ownOrigin(c),
      clientAddress: clientAddress(c),
    });
    if (replayed) c.header("Idempotent-Replayed", "true");
    return c.json(out, 200);
  });
}
