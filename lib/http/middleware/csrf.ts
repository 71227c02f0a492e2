/**
 * CSRF, checked in one place: cookie-authenticated unsafe requests (and sign-in forms) must
 * come from this server's own origin — the `Origin` header, or lacking it the `Referer`'s.
 * Hono's `csrf` middleware does not fit: it checks form content types only, and the contract
 * also refuses a cookie-authenticated JSON request without an origin.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { ForbiddenError } from "@/lib/errors.ts";
import { ownOrigin } from "@/lib/http/request.ts";

/** True when the request's Origin (or, lacking it, Referer) is this server's own origin. */
export function sameOrigin(c: Context<AppEnv>): boolean {
  const origin = c.req.header("Origin") ?? (() => {
    const ref = c.req.header("Referer");
    try {
      return ref ? new URL(ref).origin : undefined;
    } catch {
      return "invalid";
    }
  })();
  return origin !== undefined && origin === ownOrigin(c);
}

/** 403 unless the request comes from this server's own origin. */
export function requireSameOrigin(c: Context<AppEnv>): void {
  if (!sameOrigin(c)) {
    throw new ForbiddenError("Cross-site request refused: Origin must be this server");
  }
}

/**
 * For sign-up and sign-in: a browser request (it names an origin) from a foreign origin is
 * refused (login CSRF); programs that send no origin are not browsers and may call.
 */
export function noForeignOrigin(): MiddlewareHandler<AppEnv> {
  return (c, next) => {
    const named = c.req.header("Origin") !== undefined || c.req.header("Referer") !== undefined;
    if (named) requireSameOrigin(c);
    return next();
  };
}
