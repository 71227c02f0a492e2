/** /v1/connect/authorize, /v1/connect/callback, /v1/billing/checkout — payment account and platform plan. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownOrigin } from "@/lib/http/request.ts";
import { redirectTo } from "@/lib/http/response.ts";
import { finishConnect, startConnect } from "@/lib/billing/connect.ts";
import { startPlatformCheckout } from "@/lib/billing/platform.ts";
import { HttpUrl, LocalPath } from "@/lib/schemas.ts";
import { DEVELOPER, ERRORS, jsonRequest, ok, PROVIDER_ERRORS } from "@/routes/_openapi.ts";

/** Only same-site paths are allowed as a place to return to (no open redirect). */
const ReturnTo = LocalPath.optional();

const authorize = createRoute({
  method: "get",
  path: "/v1/connect/authorize",
  tags: ["Payments account"],
  summary:
    "Connect your payment account: redirects to Stripe onboarding (the sandbox connects at once)",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: { query: z.object({ mode: z.enum(["test", "live"]).optional(), returnTo: ReturnTo }) },
  responses: {
    302: { description: "Redirect to onboarding, or back when already connected (sandbox)" },
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

const callback = createRoute({
  method: "get",
  path: "/v1/connect/callback",
  tags: ["Payments account"],
  summary: "Where Stripe onboarding returns; stores the connected account id",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: { query: z.object({ state: z.string().min(1).max(100) }) },
  responses: {
    302: { description: "Redirect back to the dashboard" },
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

const platform = createRoute({
  method: "post",
  path: "/v1/billing/checkout",
  tags: ["Payments account"],
  summary: "Checkout for your own platform plan (when the operator prices one)",
  security: DEVELOPER,
  middleware: [developerAuth()],
  request: {
    body: jsonRequest(
      z.object({ successUrl: HttpUrl.optional(), cancelUrl: HttpUrl.optional() }).openapi(
        "PlatformCheckoutInput",
      ),
    ),
  },
  responses: { 200: ok(z.object({ url: z.string() })), ...ERRORS, ...PROVIDER_ERRORS },
});

export function mountConnectRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(authorize, async (c) => {
    const q = c.req.valid("query");
    const url = await startConnect(c.get("services"), c.get("developer"), {
      mode: q.mode ?? "test",
      origin: ownOrigin(c),
      returnTo: q.returnTo ?? "/dashboard",
    });
    return redirectTo(c, url);
  });
  app.openapi(callback, async (c) => {
    const back = await finishConnect(
      c.get("services"),
      c.get("developer"),
      c.req.valid("query").state,
    );
    return redirectTo(c, back);
  });
  app.openapi(platform, async (c) => {
    const origin = ownOrigin(c);
    const body = c.req.valid("json");
    const out = await startPlatformCheckout(c.get("services"), c.get("developer"), {
      origin,
      successUrl: body.successUrl ?? `${origin}/dashboard?plan=active`,
      cancelUrl: body.cancelUrl ?? `${origin}/dashboard`,
    });
    return c.json(out, 200);
  });
}
