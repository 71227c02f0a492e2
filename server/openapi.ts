/** `/openapi.json`: the security schemes every route refers to, and the document itself. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { DOC_CONFIG } from "@/routes/docs.tsx";

export function mountOpenApi(app: OpenAPIHono<AppEnv>): void {
  const schemes = app.openAPIRegistry;
  schemes.registerComponent("securitySchemes", "secretKey", {
    type: "http",
    scheme: "bearer",
    description: "Secret key `sk_test_…`/`sk_live_…` (server side only)",
  });
  schemes.registerComponent("securitySchemes", "publishableKey", {
    type: "http",
    scheme: "bearer",
    description: "Publishable key `pk_test_…`/`pk_live_…` (safe in browsers)",
  });
  schemes.registerComponent("securitySchemes", "customerToken", {
    type: "apiKey",
    in: "header",
    name: "X-Customer-Token",
    description: "Customer token from POST /api/customers/:id/token, with a publishable key",
  });
  schemes.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "dream_session",
    description: "Dashboard session; unsafe methods need a same-origin Origin header",
  });
  schemes.registerComponent("securitySchemes", "accessToken", {
    type: "http",
    scheme: "bearer",
    description: "Developer access token `dat_…`",
  });
  app.doc31("/openapi.json", DOC_CONFIG);
}
