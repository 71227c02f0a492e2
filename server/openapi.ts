/**
 * `/openapi.json`: the security schemes every route refers to, the operations' ids and security
 * completed from their paths, the service endpoints, and the document (with this server as its
 * `servers` entry).
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { DOC_CONFIG } from "@/routes/docs.tsx";
import { ownOrigin } from "@/lib/http/request.ts";

/** `get /v1/projects/{pk}/tiers` → `getV1ProjectsPkTiers`: stable and unique per operation. */
export function operationIdOf(method: string, path: string): string {
  const words = path.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method.toLowerCase() +
    words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join("");
}

const health = createRoute({
  method: "get",
  path: "/healthz",
  tags: ["Service"],
  summary: "200 when the store can be read and written, else 503",
  security: [],
  responses: {
    200: {
      description: "Healthy",
      content: { "application/json": { schema: z.object({ ok: z.literal(true) }) } },
    },
    503: { description: "The store can't be written (`service_unavailable`)" },
  },
});

const document = createRoute({
  method: "get",
  path: "/openapi.json",
  tags: ["Service"],
  summary: "This document (OpenAPI 3.1)",
  security: [],
  responses: { 200: { description: "The OpenAPI document" } },
});

export function mountOpenApi(app: OpenAPIHono<AppEnv>): void {
  const registry = app.openAPIRegistry;
  registry.registerComponent("securitySchemes", "secretKey", {
    type: "http",
    scheme: "bearer",
    description: "Secret key `sk_test_…`/`sk_live_…` (server side only)",
  });
  registry.registerComponent("securitySchemes", "publishableKey", {
    type: "http",
    scheme: "bearer",
    description: "Publishable key `pk_test_…`/`pk_live_…` (safe in browsers); also accepted " +
      "as `X-Publishable-Key` (next to a secret key it must name the same project)",
  });
  registry.registerComponent("securitySchemes", "customerToken", {
    type: "apiKey",
    in: "header",
    name: "X-Customer-Token",
    description: "Customer token from POST /api/customers/:id/token, with a publishable key. " +
      "`X-Clerk-Token` is accepted too (also next to a secret key, where it names the " +
      "customer) and may carry a Clerk session token for projects with `endUserAuth`",
  });
  registry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "dream_session",
    description: "Dashboard session; unsafe methods need a same-origin Origin header",
  });
  registry.registerComponent("securitySchemes", "accessToken", {
    type: "http",
    scheme: "bearer",
    description: "Developer access token `dat_…`",
  });
  registry.registerPath(health);
  registry.registerPath(document);
  // every operation gets an id (SDK generators need one) and a declared security (`[]` where
  // no credential is needed); route middleware is code, not part of the description
  for (const d of registry.definitions) {
    if (d.type !== "route") continue;
    const r = d.route as typeof d.route & { middleware?: unknown };
    r.operationId ??= operationIdOf(r.method, r.path);
    r.security ??= [];
    delete r.middleware;
  }
  app.doc31("/openapi.json", (c) => ({ ...DOC_CONFIG, servers: [{ url: ownOrigin(c) }] }));
}
