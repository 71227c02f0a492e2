/** /v1/projects/:pk/webhooks — outbound webhook endpoints, their deliveries, tests and retries. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject } from "@/lib/projects/projects.ts";
import {
  createEndpoint,
  deleteEndpoint,
  enableEndpoint,
  EndpointInputSchema,
  EVENT_TYPES,
  findEndpoint,
  listEndpoints,
  publicEndpoint,
  rotateEndpointSecret,
} from "@/lib/outbound/endpoints.ts";
import { deliveryLog, retryDelivery, sendTest } from "@/lib/outbound/admin.ts";
import { audit } from "@/lib/http/audit.ts";
import { DEVELOPER, ERRORS, jsonRequest, ok, PageQuery, PkParam } from "@/routes/_openapi.ts";

const base = { tags: ["Webhooks"], security: DEVELOPER, middleware: [developerAuth()] };

const EndpointSchema = z.object({
  id: z.string().openapi({ example: "we_01JDXYZ" }),
  url: z.string(),
  events: z.array(z.string()).openapi({ example: [...EVENT_TYPES] }),
  createdAt: z.string(),
  disabled: z.boolean(),
  disabledAt: z.string().nullable(),
  failingSince: z.string().nullable(),
  failuresInARow: z.number().int().openapi({
    description: "Attempts that failed in a row (0 once one succeeds)",
  }),
  nextAttemptAt: z.string().nullable().openapi({
    description: "While failing: when the endpoint is tried again (its back-off)",
  }),
}).openapi("WebhookEndpoint");
const DeliverySchema = z.object({
  id: z.string().openapi({ description: "The webhook-id header: the same on every attempt" }),
  type: z.string(),
  state: z.enum(["pending", "delivered", "failed"]),
  createdAt: z.string(),
  nextAttemptAt: z.string().nullable(),
  attempts: z.array(z.object({
    at: z.string(),
    status: z.number().int().nullable(),
    durationMs: z.number().int(),
    error: z.string().nullable(),
  })),
}).openapi("WebhookDelivery");

const EndpointParam = PkParam.extend({
  id: z.string().max(64).openapi({ param: { name: "id", in: "path" } }),
});
const DeliveryParam = EndpointParam.extend({
  deliveryId: z.string().max(80).openapi({ param: { name: "deliveryId", in: "path" } }),
});

const r = {
  create: createRoute({
    ...base,
    method: "post",
    path: "/v1/projects/{pk}/webhooks",
    summary: "Add an endpoint; its signing secret (whsec_…) is shown once",
    description: "Private, loopback and link-local targets are 422 unless the server runs with " +
      "WEBHOOK_ALLOW_PRIVATE=1. `events` defaults to all types.",
    request: { params: PkParam, body: jsonRequest(EndpointInputSchema.openapi("EndpointInput")) },
    responses: {
      201: ok(z.object({ endpoint: EndpointSchema, secret: z.string() })),
      ...ERRORS,
    },
  }),
  list: createRoute({
    ...base,
    method: "get",
    path: "/v1/projects/{pk}/webhooks",
    summary: "The project's webhook endpoints (disabled ones say so)",
    request: { params: PkParam },
    responses: { 200: ok(z.object({ endpoints: z.array(EndpointSchema) })), ...ERRORS },
  }),
  remove: createRoute({
    ...base,
    method: "delete",
    path: "/v1/projects/{pk}/webhooks/{id}",
    summary: "Delete an endpoint (its pending deliveries end)",
    request: { params: EndpointParam },
    responses: { 200: ok(z.object({ deleted: z.literal(true), id: z.string() })), ...ERRORS },
  }),
  rotate: createRoute({
    ...base,
    method: "post",
    path: "/v1/projects/{pk}/webhooks/{id}/rotate",
    summary: "A new signing secret (shown once); the previous one also signs for 24 hours",
    request: { params: EndpointParam },
    responses: {
      200: ok(z.object({ secret: z.string(), previousExpiresAt: z.string() })),
      ...ERRORS,
    },
  }),
  enable: createRoute({
    ...base,
    method: "post",
    path: "/v1/projects/{pk}/webhooks/{id}/enable",
    summary: "Enable an endpoint disabled after failing for 3 days",
    request: { params: EndpointParam },
    responses: { 200: ok(z.object({ endpoint: EndpointSchema })), ...ERRORS },
  }),
  test: createRoute({
    ...base,
    method: "post",
    path: "/v1/projects/{pk}/webhooks/{id}/test",
    summary: "Send a `ping` event to the endpoint now",
    request: { params: EndpointParam },
    responses: { 202: ok(z.object({ delivery: DeliverySchema })), ...ERRORS },
  }),
  deliveries: createRoute({
    ...base,
    method: "get",
    path: "/v1/projects/{pk}/webhooks/{id}/deliveries",
    summary: "The endpoint's deliveries, newest first, with every attempt (pages of `limit`, 50 " +
      "by default, with `nextCursor`)",
    request: { params: EndpointParam, query: PageQuery },
    responses: {
      200: ok(z.object({ deliveries: z.array(DeliverySchema), nextCursor: z.string().nullable() })),
      ...ERRORS,
    },
  }),
  retry: createRoute({
    ...base,
    method: "post",
    path: "/v1/projects/{pk}/webhooks/{id}/deliveries/{deliveryId}/retry",
    summary: "Send a delivery again now (same webhook-id and body)",
    request: { params: DeliveryParam },
    responses: { 202: ok(z.object({ delivery: DeliverySchema })), ...ERRORS },
  }),
};

async function owned(c: Context<AppEnv>, pk: string) {
  const s = c.get("services");
  return { s, p: await ownedProject(s, c.get("developer").id, pk) };
}

export function mountWebhookEndpointRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(r.create, async (c) => {
    const { s, p } = await owned(c, c.req.valid("param").pk);
    const { endpoint, secret } = await createEndpoint(s, p, c.req.valid("json"));
    await audit(c, p.pk, {
      type: "webhook_endpoint.created",
      summary: `webhook endpoint ${endpoint.url} added`,
    });
    return c.json({ endpoint: publicEndpoint(endpoint), secret }, 201);
  });
  app.openapi(r.list, async (c) => {
    const { s, p } = await owned(c, c.req.valid("param").pk);
    return c.json({ endpoints: await listEndpoints(s, p) }, 200);
  });
  app.openapi(r.remove, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, p } = await owned(c, pk);
    const e = await deleteEndpoint(s, p, id);
    await audit(c, pk, {
      type: "webhook_endpoint.deleted",
      summary: `webhook endpoint ${e.url} deleted`,
    });
    return c.json({ deleted: true as const, id }, 200);
  });
  app.openapi(r.rotate, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, p } = await owned(c, pk);
    const out = await rotateEndpointSecret(s, p, id);
    await audit(c, pk, {
      type: "webhook_endpoint.rotated",
      summary: `webhook endpoint ${findEndpoint(p, id).url}: signing secret rotated`,
    });
    return c.json(out, 200);
  });
  app.openapi(r.enable, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, p } = await owned(c, pk);
    return c.json({ endpoint: publicEndpoint(await enableEndpoint(s, p, id)) }, 200);
  });
  app.openapi(r.test, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, p } = await owned(c, pk);
    return c.json({ delivery: await sendTest(s, p, id) }, 202);
  });
  app.openapi(r.deliveries, async (c) => {
    const { pk, id } = c.req.valid("param");
    const { s, p } = await owned(c, pk);
    const q = c.req.valid("query");
    return c.json(
      await deliveryLog(s, p, { endpointId: id, limit: q.limit, cursor: q.cursor }),
      200,
    );
  });
  app.openapi(r.retry, async (c) => {
    const { pk, id, deliveryId } = c.req.valid("param");
    const { s, p } = await owned(c, pk);
    return c.json(
      { delivery: await retryDelivery(s, p, { endpointId: id, deliveryId }) },
      202,
    );
  });
}
