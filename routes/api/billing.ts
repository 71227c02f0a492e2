/** /api/create-checkout, /api/customer-portal, /api/subscription/cancel|resume — SaaS billing (sk or pk + token). */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { apiAuth, callerCustomerId } from "@/lib/http/middleware/api_auth.ts";
import { appOrigin, ownOrigin } from "@/lib/http/request.ts";
import { returnUrls } from "@/lib/billing/return_urls.ts";
import { subscriptionView } from "@/lib/customers/customers.ts";
import { requireType } from "@/lib/projects/projects.ts";
import {
  CheckoutInputSchema,
  type CustomerRef,
  openPortal,
  PortalInputSchema,
  setCancelAtPeriodEnd,
  startSubscriptionCheckout,
} from "@/lib/billing/checkout.ts";
import {
  CUSTOMER,
  ERRORS,
  IdempotencyKeyHeader,
  jsonRequest,
  ok,
  PROVIDER_ERRORS,
  SubscriptionSchema,
  UserIdHeader,
} from "@/routes/_openapi.ts";

const checkout = createRoute({
  method: "post",
  path: "/api/create-checkout",
  tags: ["Billing"],
  summary: "Subscription checkout for a tier (SaaS)",
  description:
    "Answers `{url}` of a Checkout page on the developer's account. A customer who already pays is " +
    "switched to the tier with proration instead (`switched: true`, `url` = successUrl); a " +
    "subscription set to end at period end then goes on, and buying its own tier resumes it " +
    "(`resumed: true`, nothing charged).",
  security: CUSTOMER,
  middleware: [apiAuth({ accept: "customer" })],
  request: {
    body: jsonRequest(CheckoutInputSchema.openapi("CheckoutInput")),
    headers: UserIdHeader.extend({
      "idempotency-key": IdempotencyKeyHeader,
    }),
  },
  responses: {
    200: ok(
      z.object({
        url: z.string(),
        sessionId: z.string().optional(),
        switched: z.boolean(),
        resumed: z.boolean().optional(),
      }),
    ),
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

const portal = createRoute({
  method: "post",
  path: "/api/customer-portal",
  tags: ["Billing"],
  summary: "Billing portal session for the customer",
  security: CUSTOMER,
  middleware: [apiAuth({ accept: "customer" })],
  request: { body: jsonRequest(PortalInputSchema.openapi("PortalInput")), headers: UserIdHeader },
  responses: { 200: ok(z.object({ url: z.string() })), ...ERRORS, ...PROVIDER_ERRORS },
});

/** The subscription itself (as Stripe answers), and under `subscription` for symmetry with other answers. */
const SubAnswer = SubscriptionSchema.extend({ subscription: SubscriptionSchema }).openapi(
  "SubscriptionAnswer",
);

const cancel = createRoute({
  method: "post",
  path: "/api/subscription/cancel",
  tags: ["Billing"],
  summary: "Cancel at period end (the plan stays until then)",
  security: CUSTOMER,
  middleware: [apiAuth({ accept: "customer" })],
  request: { headers: UserIdHeader },
  responses: { 200: ok(SubAnswer), ...ERRORS, ...PROVIDER_ERRORS },
});

const resume = createRoute({
  method: "post",
  path: "/api/subscription/resume",
  tags: ["Billing"],
  summary: "Undo a pending cancel",
  security: CUSTOMER,
  middleware: [apiAuth({ accept: "customer" })],
  request: { headers: UserIdHeader },
  responses: { 200: ok(SubAnswer), ...ERRORS, ...PROVIDER_ERRORS },
});

/** The customer the call acts for; only secret-key callers may name one not seen yet. */
function customerOf(c: Context<AppEnv>): CustomerRef {
  const { project, via } = c.get("api");
  requireType(project, "saas");
  return { id: callerCustomerId(c), mayCreate: via === "secret" };
}

export function mountBillingRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(checkout, async (c) => {
    const input = c.req.valid("json");
    const out = await startSubscriptionCheckout(c.get("services"), c.get("api").project, {
      ...input,
      ...returnUrls("subscription", input, appOrigin(c)),
      who: customerOf(c),
      origin: ownOrigin(c),
      idempotencyKey: c.req.valid("header")["idempotency-key"],
    });
    return c.json(out, 200);
  });
  app.openapi(portal, async (c) => {
    const out = await openPortal(c.get("services"), c.get("api").project, {
      who: customerOf(c),
      ...returnUrls("portal", c.req.valid("json"), appOrigin(c)),
      origin: ownOrigin(c),
    });
    return c.json(out, 200);
  });
  app.openapi(cancel, async (c) => {
    const sub = await setCancelAtPeriodEnd(
      c.get("services"),
      c.get("api").project,
      { who: customerOf(c), cancel: true },
    );
    const view = subscriptionView(c.get("api").project, sub);
    return c.json({ ...view, subscription: view }, 200);
  });
  app.openapi(resume, async (c) => {
    const sub = await setCancelAtPeriodEnd(
      c.get("services"),
      c.get("api").project,
      { who: customerOf(c), cancel: false },
    );
    const view = subscriptionView(c.get("api").project, sub);
    return c.json({ ...view, subscription: view }, 200);
  });
}
