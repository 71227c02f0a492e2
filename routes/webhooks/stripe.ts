/** /webhook/stripe — every provider event (platform and connected accounts), signature-verified. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { handleEvent } from "@/lib/webhooks/dispatch.ts";
import { InvalidRequestError } from "@/lib/errors.ts";
import { ERRORS, ok, PROVIDER_ERRORS } from "@/routes/_openapi.ts";

const receive = createRoute({
  method: "post",
  path: "/webhook/stripe",
  tags: ["Webhooks"],
  summary: "Stripe events (you never call this; Stripe does)",
  description:
    "Verified with the `Stripe-Signature` header over the raw body; a bad signature, a stale or " +
    "future timestamp is 400 and changes nothing. Each event applies once; unhandled types answer 200.",
  request: {
    headers: z.object({ "stripe-signature": z.string().optional() }),
    body: {
      content: {
        "application/json": {
          schema: z.object({ id: z.string(), type: z.string() }).passthrough(),
        },
      },
      required: false,
    },
  },
  responses: {
    200: ok(z.object({ received: z.literal(true), outcome: z.string() })),
    ...ERRORS,
    ...PROVIDER_ERRORS,
  },
});

export function mountWebhookRoutes(app: OpenAPIHono<AppEnv>) {
  // Registered with the plain router: the body must reach the verifier byte for byte.
  app.openAPIRegistry.registerPath(receive);
  app.post("/webhook/stripe", async (c) => {
    const s = c.get("services");
    const signature = c.req.header("Stripe-Signature");
    if (!signature) {
      throw new InvalidRequestError("Missing Stripe-Signature header", [{
        field: "Stripe-Signature",
        message: "required",
      }]);
    }
    const raw = await c.req.text();
    let event;
    try {
      event = await s.payments.verifyEvent(raw, signature, Math.floor(s.clock.now() / 1000));
    } catch (err) {
      throw new InvalidRequestError(
        `Webhook signature verification failed: ${err instanceof Error ? err.message : err}`,
        [
          { field: "Stripe-Signature", message: "does not verify" },
        ],
      );
    }
    const outcome = await handleEvent(s, event);
    s.logger.debug("webhook", { id: event.id, type: event.type, outcome });
    return c.json({ received: true as const, outcome });
  });
}
