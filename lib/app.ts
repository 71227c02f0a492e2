/** The app factory: injected dependencies in, a Hono app out. No module-level singletons. */
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv, ConnInfo } from "@/lib/http/context.ts";
import { errorResponse, onError, validationHook } from "@/lib/http/errors.ts";
import { jsonBody, requestId, securityHeaders } from "@/lib/http/middleware.ts";
import {
  API_HEADERS,
  contentSecurityPolicy,
  CORS_ALLOW_HEADERS,
  CORS_EXPOSE_HEADERS,
} from "@/lib/http/security.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { createServices, type Deps, type Services, systemClock } from "@/lib/services.ts";
import { createLogger } from "@/lib/logger.ts";
import { mountRoutes } from "@/routes/mod.ts";
import { serveStatic } from "@/lib/http/static.ts";
import { createHotPath } from "@/lib/http/hot_path.ts";
import { tooLarge } from "@/lib/http/body.ts";
import { MAX_IMAGE_BYTES } from "@/lib/storage/assets.ts";
import { clerkFrontendApi } from "@/lib/accounts/clerk.ts";
import { DOC_CONFIG, mountDocs } from "@/routes/docs.tsx";

/** Paths a browser may call with a publishable key: the only ones with CORS. */
const BROWSER_PATHS = [
  "/api/data",
  "/api/usage",
  "/api/tiers",
  "/api/products",
  "/api/cart/*",
  "/api/create-checkout",
  "/api/customer-portal",
  "/api/subscription/*",
  "/api/assets/*",
];

export interface App {
  /** The handler for `Deno.serve`: `info` carries the client address. */
  fetch: (req: Request, info?: ConnInfo) => Response | Promise<Response>;
  services: Services;
  hono: OpenAPIHono<AppEnv>;
}

/**
 * Builds the whole app on the given KV, config and clock: middleware (request id, security
 * headers, CORS for browser-safe paths, body limits, JSON bodies), every route, `/openapi.json`
 * and the single error mapper.
 */
export async function createApp(deps: Deps): Promise<App> {
  const full = {
    config: deps.config,
    kv: deps.kv,
    clock: deps.clock ?? systemClock,
    logger: deps.logger ?? createLogger(deps.config.logLevel),
    ...(deps.payments ? { payments: deps.payments } : {}),
    ...(deps.storage ? { storage: deps.storage } : {}),
  };
  const secret = deps.config.appSecret;
  if (!secret) throw new Error("createApp needs config.appSecret (main.ts provides one)");
  const services = await createServices(full, secret);

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.use("*", async (c, next) => {
    c.set("services", services);
    await next();
  });
  app.use("*", requestId);
  // Clerk's sign-in (when configured) loads from the instance's frontend API host.
  const clerkHost = deps.config.clerk
    ? `https://${clerkFrontendApi(deps.config.clerk.publishableKey)}`
    : null;
  const extraScripts = clerkHost ? [clerkHost] : [];
  app.use(
    "*",
    securityHeaders((formTargets) =>
      contentSecurityPolicy({
        extraScripts,
        providerOrigins: services.payments.formOrigins,
        formTargets,
      })
    ),
  );

  const corsMw = cors({
    origin: "*",
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: CORS_ALLOW_HEADERS,
    exposeHeaders: CORS_EXPOSE_HEADERS,
    maxAge: 600,
  });
  for (const p of BROWSER_PATHS) app.use(p, corsMw);
  // Every body is counted while it streams (with or without Content-Length): JSON bodies and
  // forms up to MAX_BODY_BYTES, provider events up to 1 MB, image uploads up to 5 MB + the
  // multipart envelope.
  const limitOf = (max: number) =>
    bodyLimit({
      maxSize: max,
      onError: () => {
        throw tooLarge(max);
      },
    });
  const jsonLimit = limitOf(deps.config.maxBodyBytes);
  const uploadLimit = limitOf(MAX_IMAGE_BYTES + 64 * 1024);
  const webhookLimit = limitOf(1024 * 1024);
  app.use(
    "*",
    (c, next) =>
      c.req.path === "/v1/assets"
        ? uploadLimit(c, next)
        : c.req.path.startsWith("/webhook/")
        ? webhookLimit(c, next)
        : jsonLimit(c, next),
  );
  const exceptUploads = (mw: MiddlewareHandler<AppEnv>): MiddlewareHandler<AppEnv> => (c, next) =>
    c.req.path === "/v1/assets" ? next() : mw(c, next);
  app.use("/api/*", jsonBody);
  app.use("/v1/*", exceptUploads(jsonBody));

  mountRoutes(app);
  app.get("/static/*", serveStatic);
  app.get("/favicon.ico", (c) => c.body(null, 204));

  app.openAPIRegistry.registerComponent("securitySchemes", "secretKey", {
    type: "http",
    scheme: "bearer",
    description: "Secret key `sk_test_…`/`sk_live_…` (server side only)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "publishableKey", {
    type: "http",
    scheme: "bearer",
    description: "Publishable key `pk_test_…`/`pk_live_…` (safe in browsers)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "customerToken", {
    type: "apiKey",
    in: "header",
    name: "X-Customer-Token",
    description: "Customer token from POST /api/customers/:id/token, with a publishable key",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "session", {
    type: "apiKey",
    in: "cookie",
    name: "dream_session",
    description: "Dashboard session; unsafe methods need a same-origin Origin header",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "accessToken", {
    type: "http",
    scheme: "bearer",
    description: "Developer access token `dat_…`",
  });
  app.doc31("/openapi.json", DOC_CONFIG);
  mountDocs(app);

  // The sandbox delivers its signed events through the same webhook route as Stripe's.
  services.sandbox?.attach(async (payload, signature) => {
    const res = await app.fetch(
      new Request("http://sandbox.internal/webhook/stripe", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
        body: payload,
      }),
    );
    if (!res.ok) throw new Error(`sandbox event refused: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
  });

  app.notFound((c) =>
    errorResponse(c, new NotFoundError(`No route ${c.req.method} ${c.req.path}`))
  );
  app.onError(onError);
  const hot = createHotPath(services, API_HEADERS);
  return {
    fetch: (req, info) => {
      const fast = hot(req);
      if (fast === null) return app.fetch(req, info);
      if (fast instanceof Response) return fast;
      if (fast instanceof Request) return app.fetch(fast, info);
      return fast.then((r) => (r instanceof Response ? r : app.fetch(r ?? req, info)));
    },
    services,
    hono: app,
  };
}
