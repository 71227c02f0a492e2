/**
 * The composition root: injected dependencies in, the app out — services, policy middleware,
 * every route, `/openapi.json`, the sandbox's loopback to the webhook route, the error mapper
 * and the hot path in front. No module-level singletons.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv, ConnInfo } from "@/lib/http/context.ts";
import { errorAnswer, onError, validationHook } from "@/lib/http/errors.ts";
import { jsonBody } from "@/lib/http/middleware/json_body.ts";
import { noteRateTaken } from "@/lib/http/middleware/api_auth.ts";
import { requestId } from "@/lib/http/middleware/request_id.ts";
import { API_HEADERS } from "@/lib/http/security.ts";
import { NotFoundError, UnauthenticatedError } from "@/lib/errors.ts";
import { createServices, type Deps, type Services, systemClock } from "@/lib/services.ts";
import { createLogger } from "@/lib/logger.ts";
import { mountRoutes } from "@/routes/mod.ts";
import { serveSdk, serveStatic } from "@/lib/http/static.ts";
import { compress } from "hono/compress";
import { createHotPath } from "@/lib/http/hot_path.ts";
import { mountDocs } from "@/routes/docs.tsx";
import { bodyLimits, BROWSER_PATHS, corsPolicy, securityPolicy } from "@/server/policy.ts";
import { mountOpenApi } from "@/server/openapi.ts";
import { createMetrics, type Metrics } from "@/lib/metrics.ts";
import { timingSafeEqual } from "@/lib/crypto.ts";
import type { Context } from "hono";

export interface App {
  /** The handler for `Deno.serve`: `info` carries the client address. */
  fetch: (req: Request, info?: ConnInfo) => Response | Promise<Response>;
  services: Services;
  hono: OpenAPIHono<AppEnv>;
  /** Prometheus metrics when METRICS_TOKEN is set, else null (nothing recorded). */
  metrics: Metrics | null;
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
  const metrics = deps.config.metricsToken ? createMetrics(services) : null;
  if (metrics) {
    app.use("*", async (c, next) => {
      const started = performance.now();
      await next();
      metrics.request({
        route: c.req.routePath,
        method: c.req.method,
        status: c.res.status,
        seconds: (performance.now() - started) / 1000,
      });
    });
  }
  app.use("*", async (c, next) => {
    c.set("services", services);
    noteRateTaken(c);
    await next();
  });
  // pages, scripts, styles, the API description and exports are compressed; the customer API
  // (small JSON on the hot path) is not
  const compressed = compress();
  app.use("*", (c, next) => c.req.path.startsWith("/api/") ? next() : compressed(c, next));
  app.use("*", requestId());
  app.use("*", securityPolicy(services));
  // after the request id and security headers: a refusal is the usual error JSON
  if (metrics) app.get("/metrics", (c) => metricsAnswer(c, metrics, deps.config.metricsToken!));
  for (const p of BROWSER_PATHS) app.use(p, corsPolicy);
  app.use("*", bodyLimits(deps.config));
  const json = jsonBody({ except: (path) => path === "/v1/assets" });
  app.use("/api/*", json);
  app.use("/v1/*", json);

  mountRoutes(app);
  app.get("/static/*", serveStatic);
  app.get("/sdk/*", serveSdk);
  app.get("/favicon.ico", (c) => c.body(null, 204));
  mountOpenApi(app);
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

  app.notFound((c) => errorAnswer(c, new NotFoundError(`No route ${c.req.method} ${c.req.path}`)));
  app.onError(onError);
  const hot = createHotPath(services, API_HEADERS);
  // with metrics on, an answer of the hot path is counted here (the full app counts its own)
  const counted = (req: Request, started: number) => (res: Response) => {
    metrics?.request({
      route: new URL(req.url).pathname,
      method: req.method,
      status: res.status,
      seconds: (performance.now() - started) / 1000,
    });
    return res;
  };
  const serve = (req: Request, info?: ConnInfo): Response | Promise<Response> => {
    const started = metrics ? performance.now() : 0;
    const fast = hot(req);
    if (fast === null) return app.fetch(req, info);
    if (fast instanceof Response) return metrics ? counted(req, started)(fast) : fast;
    if (fast instanceof Request) return app.fetch(fast, info);
    return fast.then((r) =>
      r instanceof Response ? (metrics ? counted(req, started)(r) : r) : app.fetch(r ?? req, info)
    );
  };
  return {
    fetch: serve,
    services,
    hono: app,
    metrics,
  };
}

/** `GET /metrics`: Prometheus text for the bearer of METRICS_TOKEN; 401 for anyone else. */
async function metricsAnswer(c: Context<AppEnv>, metrics: Metrics, token: string) {
  const auth = c.req.header("authorization") ?? "";
  if (!timingSafeEqual(auth, `Bearer ${token}`)) {
    throw new UnauthenticatedError("Bearer METRICS_TOKEN needed");
  }
  return c.body(await metrics.registry.metrics(), 200, {
    "Content-Type": metrics.registry.contentType,
    "Cache-Control": "no-store",
  });
}
