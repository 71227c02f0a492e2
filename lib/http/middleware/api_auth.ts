/**
 * Customer-API authentication: secret keys, publishable keys with a customer token, bare
 * publishable keys on public routes; the per-key and per-customer rate limits (the hot path
 * uses the same buckets).
 */
import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import type { Services } from "@/lib/services.ts";
import {
  ForbiddenError,
  InvalidRequestError,
  RateLimitedError,
  UnauthenticatedError,
} from "@/lib/errors.ts";
import { projectByPk, projectBySecretKey, secretPrefix } from "@/lib/projects/projects.ts";
import { customerOfToken } from "@/lib/customers/end_user.ts";
import { CUSTOMER_ID_RE } from "@/lib/ids.ts";
import { bearer } from "@/lib/http/request.ts";

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

/**
 * Requests the hot path hands to the full app after it took their rate-limit tokens (when the
 * store failed under it): the full app marks the call `rateTaken` when it starts (`noteRateTaken`)
 * and takes no token again, so a call costs its caller one token whichever way it went.
 */
export const rateTaken = new WeakSet<Request>();

/** The full app's first middleware: a call whose tokens were taken already is marked so. */
export function noteRateTaken(c: Context<AppEnv>): void {
  if (rateTaken.has(c.req.raw)) c.set("rateTaken", true);
}

function limitRate(c: Context<AppEnv>, bucket: () => string, rate: number, what: string) {
  if (c.get("rateTaken")) return;
  const err = rateLimitError(c.get("services"), bucket, rate, what);
  if (err) throw err;
}

/**
 * The key a call authenticates with: `Authorization: Bearer …`, else the original dream-api
 * SDK's `X-Publishable-Key`. With both, X-Publishable-Key must name the key's project (checked
 * by the caller once the project is known).
 */
function presentedKey(c: Context<AppEnv>): { key: string | null; xpk: string | null } {
  const key = bearer(c);
  const xpk = c.req.header("X-Publishable-Key")?.trim() || null;
  if (xpk !== null && !xpk.startsWith("pk_")) {
    throw new UnauthenticatedError("X-Publishable-Key must be a pk_… key", "invalid_api_key");
  }
  return { key: key ?? xpk, xpk };
}

/** The end-user token of a call: `X-Customer-Token`, or the original SDK's `X-Clerk-Token`. */
function endUserToken(c: Context<AppEnv>, o: { secret: boolean }): string | null {
  const clerk = c.req.header("X-Clerk-Token")?.trim() || null;
  if (o.secret) return clerk; // next to a secret key, only X-Clerk-Token names the customer
  const ours = c.req.header("X-Customer-Token")?.trim() || null;
  if (ours && clerk && ours !== clerk) {
    throw new ForbiddenError("X-Customer-Token and X-Clerk-Token name different tokens");
  }
  return ours ?? clerk;
}

/**
 * Customer-API authentication (`accept`). `secret`: only `sk_…`. `customer`: `sk_…`, or `pk_…` with an
 * end-user token (`X-Customer-Token` / `X-Clerk-Token`) for that project. `public`: `sk_…` or a
 * bare `pk_…`. The publishable key may come as `X-Publishable-Key`. Applies the per-key rate
 * limit.
 */
export function apiAuth(
  o: { accept: "secret" | "customer" | "public" },
): MiddlewareHandler<AppEnv> {
  const mode = o.accept;
  return async (c, next) => {
    const s = c.get("services");
    const { key, xpk } = presentedKey(c);
    const sameProject = (pk: string) => {
      if (xpk !== null && xpk !== pk) {
        throw new ForbiddenError("X-Publishable-Key names another project than the API key");
      }
    };
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
      sameProject(project.pk);
      limitRate(c, () => rateBuckets.key("sk", project.pk), s.config.rateLimitPerKey, "secret key");
      const token = mode === "secret" ? null : endUserToken(c, { secret: true });
      const tokenCustomerId = token ? await customerOfToken(s, project, token) : null;
      c.set("api", { project, via: "secret", tokenCustomerId });
      c.set("actor", `secret key ${secretPrefix(key)}…`); // what the audit log names
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
      sameProject(project.pk);
      limitRate(
        c,
        () => rateBuckets.key("pk", project.pk),
        s.config.rateLimitPerKey,
        "publishable key",
      );
      if (mode === "customer") {
        const token = endUserToken(c, { secret: false });
        if (!token) {
          throw new UnauthenticatedError(
            "A publishable key needs an X-Customer-Token here (mint one with POST /api/customers/:id/token)",
          );
        }
        const customerId = await customerOfToken(s, project, token);
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
      throw new ForbiddenError("X-User-Id names another customer than the end-user token");
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
