/** Cross-cutting middleware: request ids, security headers, JSON bodies, API and developer auth. */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv, ConnInfo } from "@/lib/http/context.ts";
import type { Services } from "@/lib/services.ts";
import {
  ForbiddenError,
  InvalidRequestError,
  RateLimitedError,
  UnauthenticatedError,
  ValidationError,
} from "@/lib/errors.ts";
import { projectByPk, projectBySecretKey } from "@/lib/projects/projects.ts";
import { verifyCustomerToken } from "@/lib/customers/customers.ts";
import { CUSTOMER_ID_RE } from "@/lib/ids.ts";
import { isHttpUrl, isLocalPath } from "@/lib/schemas.ts";
import { API_HEADERS, PAGE_HEADERS, requestIdOf } from "@/lib/http/security.ts";
import { developerForAccessToken, developerForSession } from "@/lib/accounts/accounts.ts";
import { developerForClerkToken } from "@/lib/accounts/clerk.ts";

export const SESSION_COOKIE = "dream_session";
/** `application/json` and `application/…+json`. */
export const JSON_TYPE_RE = /^application\/([a-z.+-]*\+)?json\b/i;

/** Gives every request an id (the caller's `X-Request-Id` when sane) and echoes it. */
export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header("X-Request-Id");
  const id = requestIdOf(incoming);
  c.set("requestId", id);
  await next();
  c.res.headers.set("X-Request-Id", id);
};

/** Paths that answer JSON (or files) to programs rather than pages to people. */
export function isApiPath(path: string): boolean {
  return path.startsWith("/api/") || path.startsWith("/v1/") || path.startsWith("/webhook/") ||
    path === "/openapi.json" || path === "/healthz";
}

/**
 * Sets the security headers: pages get the full set (CSP, frame-ancestors, HSTS …), JSON API
 * answers get `API_HEADERS`, which is all that applies to them. The CSP of pages is computed
 * once; a page that names extra form targets (`formTargets`) gets its own.
 */
export function securityHeaders(
  csp: (formTargets?: string[]) => string,
): MiddlewareHandler<AppEnv> {
  const fixed: [string, string][] = [["Content-Security-Policy", csp()], ...PAGE_HEADERS];
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    if (isApiPath(c.req.path)) {
      for (const [k, v] of API_HEADERS) if (!h.has(k)) h.set(k, v);
      return;
    }
    const targets = c.get("formTargets");
    for (const [k, v] of fixed) if (!h.has(k)) h.set(k, v);
    if (targets?.length) h.set("Content-Security-Policy", csp(targets));
  };
}

/**
 * Reads a JSON body once for unsafe methods: a non-empty body must be `application/json` and
 * a JSON object; an empty body counts as `{}`. The raw text is kept for idempotency.
 */
export const jsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!["POST", "PUT", "PATCH", "DELETE"].includes(c.req.method)) return next();
  const text = await c.req.text();
  c.set("rawBody", text);
  const ctype = c.req.header("Content-Type") ?? "";
  if (text.trim() === "") {
    (c.req as unknown as { bodyCache: Record<string, unknown> }).bodyCache.json = Promise.resolve(
      {},
    );
    return next();
  }
  if (!JSON_TYPE_RE.test(ctype)) {
    throw new InvalidRequestError("Content-Type must be application/json", [
      { field: "Content-Type", message: `expected application/json, got "${ctype || "nothing"}"` },
    ]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidRequestError("Malformed JSON in request body", [{
      field: "body",
      message: "not valid JSON",
    }]);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidRequestError("Request body must be a JSON object", [{
      field: "body",
      message: "not an object",
    }]);
  }
  (c.req as unknown as { bodyCache: Record<string, unknown> }).bodyCache.json = Promise.resolve(
    parsed,
  );
  return next();
};

/**
 * A form body (urlencoded or multipart) as strings; a malformed one (a multipart body without
 * its boundary …) is 400, never a crash.
 */
export async function formFields(c: Context<AppEnv>): Promise<Record<string, string>> {
  let parsed: Record<string, unknown>;
  try {
    parsed = await c.req.parseBody();
  } catch {
    throw new InvalidRequestError("Malformed form body", [
      { field: "body", message: "not a valid form" },
    ]);
  }
  return Object.fromEntries(
    Object.entries(parsed).map(([k, v]) => [k, typeof v === "string" ? v : ""]),
  );
}

function bearer(c: Context<AppEnv>): string | null {
  const h = c.req.header("Authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new UnauthenticatedError('Authorization must be "Bearer <key>"', "invalid_api_key");
  return m[1]!;
}

/** Rate-limit buckets, named once for the full app and the hot path. */
export const rateBuckets = {
  key: (kind: "sk" | "pk", pk: string) => `key:${kind}:${pk}`,
  customer: (pk: string, customerId: string) => `cust:${pk}:${customerId}`,
};

/** Takes a token from `bucket` (a rate of 0 is off); the error to answer when it is empty. */
export function rateLimitError(
  s: Services,
  bucket: () => string,
  rate: number,
  what: string,
): RateLimitedError | null {
  if (rate <= 0) return null;
  const wait = s.rateLimiter.take(bucket(), rate);
  return wait > 0
    ? new RateLimitedError(`Too many requests for this ${what}; slow down`, wait)
    : null;
}

function limitRate(c: Context<AppEnv>, bucket: () => string, rate: number, what: string) {
  const err = rateLimitError(c.get("services"), bucket, rate, what);
  if (err) throw err;
}

/**
 * Customer-API authentication. `secret`: only `sk_…`. `customer`: `sk_…`, or `pk_…` with an
 * `X-Customer-Token` for that project. `public`: `sk_…` or a bare `pk_…`. Applies the per-key
 * rate limit.
 */
export function apiAuth(mode: "secret" | "customer" | "public"): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const s = c.get("services");
    const key = bearer(c);
    if (!key) {
      throw new UnauthenticatedError(
        mode === "secret"
          ? "Missing API key: send Authorization: Bearer sk_…"
          : "Missing API key: send Authorization: Bearer pk_… or sk_…",
        "invalid_api_key",
      );
    }
    if (key.startsWith("sk_")) {
      const project = await projectBySecretKey(s, key);
      limitRate(c, () => rateBuckets.key("sk", project.pk), s.config.rateLimitPerKey, "secret key");
      c.set("api", { project, via: "secret", tokenCustomerId: null });
      return next();
    }
    if (key.startsWith("pk_")) {
      if (mode === "secret") {
        throw new ForbiddenError(
          "This endpoint needs a secret key (sk_…); a publishable key can't call it",
        );
      }
      const project = await projectByPk(s, key);
      if (!project) throw new UnauthenticatedError("Unknown publishable key", "invalid_api_key");
      limitRate(
        c,
        () => rateBuckets.key("pk", project.pk),
        s.config.rateLimitPerKey,
        "publishable key",
      );
      if (mode === "customer") {
        const token = c.req.header("X-Customer-Token");
        if (!token) {
          throw new UnauthenticatedError(
            "A publishable key needs an X-Customer-Token here (mint one with POST /api/customers/:id/token)",
          );
        }
        const customerId = await verifyCustomerToken(s, project.pk, token);
        c.set("api", { project, via: "customer_token", tokenCustomerId: customerId });
      } else {
        c.set("api", { project, via: "publishable", tokenCustomerId: null });
      }
      return next();
    }
    throw new UnauthenticatedError("Malformed API key: expected sk_… or pk_…", "invalid_api_key");
  };
}

/**
 * The customer a customer-API call acts for: the token's customer, or `X-User-Id` on secret-key
 * calls. Applies the per-customer rate limit.
 */
export function callerCustomerId(c: Context<AppEnv>): string {
  const api = c.get("api");
  const header = c.req.header("X-User-Id");
  let id: string;
  if (api.tokenCustomerId !== null) {
    if (header && header !== api.tokenCustomerId) {
      throw new ForbiddenError("X-User-Id names another customer than the customer token");
    }
    id = api.tokenCustomerId;
  } else {
    if (!header) {
      throw new InvalidRequestError("Missing X-User-Id header naming the customer", [
        { field: "X-User-Id", message: "required with a secret key" },
      ]);
    }
    if (!CUSTOMER_ID_RE.test(header)) {
      throw new InvalidRequestError("Bad X-User-Id header", [
        { field: "X-User-Id", message: "must be 1–128 of A-Z a-z 0-9 _ . : @ -" },
      ]);
    }
    id = header;
  }
  const s = c.get("services");
  limitRate(
    c,
    () => rateBuckets.customer(api.project.pk, id),
    s.config.rateLimitPerCustomer,
    "customer",
  );
  return id;
}

/**
 * A redirect whose `Location` passed the URL rules (an http(s) URL or a path of this server);
 * anything else is refused with 422, so no unchecked value ever reaches a header.
 */
export function redirectTo(c: Context<AppEnv>, to: string, status: 302 | 303 = 302): Response {
  if (!isHttpUrl(to) && !isLocalPath(to)) {
    throw new ValidationError("The redirect target is not a valid URL", [
      { field: "location", message: "must be an http(s) URL or a path on this server" },
    ]);
  }
  return c.redirect(to, status);
}

/**
 * The client's address: the connection's peer, or with `TRUST_PROXY` the first
 * `X-Forwarded-For` entry (set by the proxy in front). "local" for in-process calls.
 */
export function clientAddress(c: Context<AppEnv>): string {
  if (c.get("services").config.trustProxy) {
    const forwarded = c.req.header("X-Forwarded-For")?.split(",")[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return (c.env as ConnInfo | undefined)?.remoteAddr?.hostname ?? "local";
}

/** The server's own origin: BASE_URL when configured, else the request's. */
export function ownOrigin(c: Context<AppEnv>): string {
  return c.get("services").config.baseUrl ?? new URL(c.req.url).origin;
}

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

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * Developer-API authentication: `Bearer dat_…`, or the session cookie; cookie-authenticated
 * unsafe requests must come from this server's own origin (CSRF).
 */
export const developerAuth: MiddlewareHandler<AppEnv> = async (c, next) => {
  const s = c.get("services");
  const token = bearer(c);
  if (token) {
    const dev = token.startsWith("dat_")
      ? await developerForAccessToken(s, token)
      : s.config.clerk && token.split(".").length === 3
      ? await developerForClerkToken(s, token)
      : null;
    if (!dev) throw new UnauthenticatedError("Unknown or revoked access token");
    c.set("developer", dev);
    return next();
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  const clerkCookie = s.config.clerk ? getCookie(c, "__session") : undefined;
  const dev = cookie
    ? await developerForSession(s, cookie)
    : clerkCookie
    ? await developerForClerkToken(s, clerkCookie)
    : null;
  if (!dev) throw new UnauthenticatedError("Sign in first (session cookie or Bearer dat_… token)");
  if (UNSAFE.has(c.req.method) && !sameOrigin(c)) {
    throw new ForbiddenError("Cross-site request refused: Origin must be this server");
  }
  c.set("developer", dev);
  return next();
};

/** For sign-up and sign-in: a browser request from a foreign origin is refused (login CSRF). */
export const noForeignOrigin: MiddlewareHandler<AppEnv> = (c, next) => {
  const hasOrigin = c.req.header("Origin") !== undefined || c.req.header("Referer") !== undefined;
  if (hasOrigin && !sameOrigin(c)) {
    throw new ForbiddenError("Cross-site request refused: Origin must be this server");
  }
  return next();
};

/** Sets the dashboard session cookie (HttpOnly, SameSite=Lax, Secure behind HTTPS). */
export function setSessionCookie(c: Context<AppEnv>, token: string): void {
  const s = c.get("services");
  setCookie(c, SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "Lax",
    secure: (s.config.baseUrl ?? c.req.url).startsWith("https:"),
    path: "/",
    maxAge: Math.floor(s.config.sessionTtlMs / 1000),
  });
}
