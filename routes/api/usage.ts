/** /api/data (track usage) and /api/usage (read usage) — the hot path; sk or pk + customer token. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth, callerCustomerId } from "@/lib/http/middleware/api_auth.ts";
import {
  customerForTracking,
  findCustomer,
  requireCustomer,
  unsavedCustomer,
  usageOf,
} from "@/lib/customers/customers.ts";
import { requireType } from "@/lib/projects/projects.ts";
import { QUANTITY_MAX, QUANTITY_MIN, trackUsage } from "@/lib/usage/track.ts";
import {
  CUSTOMER,
  ERRORS,
  IdempotencyKeyHeader,
  jsonRequest,
  ok,
  UsageSchema,
  UserIdHeader,
} from "@/routes/_openapi.ts";

const TrackSchema = z.object({
  quantity: z.number().int().min(QUANTITY_MIN).max(QUANTITY_MAX).optional().openapi({
    example: 1,
  }),
}).passthrough().openapi("TrackUsage");

const track = createRoute({
  method: "post",
  path: "/api/data",
  tags: ["Usage"],
  summary: "Track usage for a customer",
  description:
    "Counts `quantity` (default 1) against the customer's plan for the current billing period. " +
    "At the limit the call is refused with 429 `tier_limit_reached` and nothing is counted. " +
    "With `Idempotency-Key`, a retry with the same body answers the first result and counts once; " +
    "the same key with another body is 409. A customer first seen through `X-User-Id` is created " +
    "on the free tier.",
  security: CUSTOMER,
  middleware: [apiAuth({ accept: "customer" })],
  request: {
    body: jsonRequest(TrackSchema),
    headers: UserIdHeader.extend({
      "idempotency-key": IdempotencyKeyHeader,
    }),
  },
  responses: {
    200: ok(z.object({ success: z.literal(true), usage: UsageSchema })),
    ...ERRORS,
  },
});

const read = createRoute({
  method: "get",
  path: "/api/usage",
  tags: ["Usage"],
  summary: "The customer's usage this period (counts nothing)",
  security: CUSTOMER,
  middleware: [apiAuth({ accept: "customer" })],
  request: { headers: UserIdHeader },
  responses: { 200: ok(z.object({ usage: UsageSchema })), ...ERRORS },
});

export function mountUsageRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(track, async (c) => {
    const { project } = c.get("api");
    requireType(project, "saas");
    const body = c.req.valid("json");
    const s = c.get("services");
    const id = callerCustomerId(c);
    // secret-key callers may name new customers; token callers act for an existing one
    const customer = c.get("api").via === "secret"
      ? await customerForTracking(s, project, { id, quantity: body.quantity ?? 1 })
      : await requireCustomer(s, project.pk, id);
    const idempotencyKey = c.req.valid("header")["idempotency-key"];
    const res = await trackUsage(c.get("services"), project, {
      customer,
      quantity: body.quantity ?? 1,
      ...(idempotencyKey ? { idempotencyKey } : {}),
    });
    if (res.kind === "replayed") {
      c.header("Idempotent-Replayed", "true");
      return c.json(res.record.body as { success: true; usage: z.infer<typeof UsageSchema> }, 200);
    }
    return c.json({ success: true as const, usage: res.usage }, 200);
  });
  app.openapi(read, async (c) => {
    const { project } = c.get("api");
    requireType(project, "saas");
    const s = c.get("services");
    const id = callerCustomerId(c);
    // a customer not seen yet reads as new (free tier, nothing used) and is not created
    const customer = c.get("api").via === "secret"
      ? await findCustomer(s, project.pk, id) ?? unsavedCustomer(s, project, id)
      : await requireCustomer(s, project.pk, id);
    return c.json({ usage: await usageOf(s, project, customer) }, 200);
  });
}
