/**
 * The app's HTTP policy in one place: which paths browsers may call (CORS), the security
 * headers of pages (CSP with the provider's and Clerk's origins), and the body limit of each
 * path. The rules the hot path shares (CORS exposure, request ids) are `lib/http/security.ts`.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "@/lib/http/context.ts";
import type { Config } from "@/lib/config.ts";
import type { Services } from "@/lib/services.ts";
import { securityHeaders } from "@/lib/http/middleware/security_headers.ts";
import {
  contentSecurityPolicy,
  CORS_ALLOW_HEADERS,
  CORS_EXPOSE_HEADERS,
} from "@/lib/http/security.ts";
import { limitBody, tooLarge } from "@/lib/http/body.ts";
import { MAX_IMAGE_BYTES } from "@/lib/storage/assets.ts";
import { clerkFrontendApi } from "@/lib/accounts/clerk.ts";

/** Paths a browser may call with a publishable key: the only ones with CORS. */
export const BROWSER_PATHS = [
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

/** CORS for the browser-safe paths (any origin: the publishable key is the credential). */
export const corsPolicy: MiddlewareHandler<AppEnv> = cors({
  origin: "*",
  allowMethods: ["GET", "POST", "OPTIONS"],
  allowHeaders: CORS_ALLOW_HEADERS,
  exposeHeaders: CORS_EXPOSE_HEADERS,
  maxAge: 600,
});

/**
 * Security headers: pages get CSP (forms may post to this server and the payment provider's
 * pages only; scripts from Clerk's frontend API when it is configured), HSTS, COOP …; JSON API
 * answers get `nosniff`.
 */
export function securityPolicy(
  s: Pick<Services, "payments"> & { config: Pick<Config, "clerk"> },
): MiddlewareHandler<AppEnv> {
  const clerk = s.config.clerk;
  const extraScripts = clerk ? [`https://${clerkFrontendApi(clerk.publishableKey)}`] : [];
  return securityHeaders({
    csp: (formTargets) =>
      contentSecurityPolicy({
        extraScripts,
        providerOrigins: s.payments.formOrigins,
        formTargets,
      }),
  });
}

/**
 * Every body is counted while it streams (with or without Content-Length): JSON bodies and
 * forms up to MAX_BODY_BYTES, provider events up to 1 MB, image uploads up to 5 MB + the
 * multipart envelope.
 */
export function bodyLimits(config: Pick<Config, "maxBodyBytes">): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const max = c.req.path === "/v1/assets"
      ? MAX_IMAGE_BYTES + 64 * 1024
      : c.req.path.startsWith("/webhook/")
      ? 1024 * 1024
      : config.maxBodyBytes;
    const limited = await limitBody(c.req.raw, max);
    if (!limited) throw tooLarge(max);
    c.req.raw = limited;
    await next();
  };
}
