/**
 * Who the developer is: a `dat_…` access token (or a Clerk session token) as a bearer, else the
 * session cookie, else Clerk's session cookie. One rule for the API and the pages; the API
 * checks CSRF on cookie-authenticated unsafe requests.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "@/lib/http/context.ts";
import type { Developer } from "@/lib/kv/developers.ts";
import { UnauthenticatedError } from "@/lib/errors.ts";
import { accessTokenOwner, developerForSession } from "@/lib/accounts/accounts.ts";
import { developerForClerkToken } from "@/lib/accounts/clerk.ts";
import { bearer } from "@/lib/http/request.ts";
import { requireSameOrigin } from "@/lib/http/middleware/csrf.ts";

export const SESSION_COOKIE = "dream_session";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/**
 * The signed-in developer, or null. `via` says how: a bearer token (no CSRF applies) or a
 * cookie. A bearer that names nobody is 401 (it was meant as a credential).
 */
export async function resolveDeveloper(
  c: Context<AppEnv>,
  o: { bearer: boolean },
): Promise<{ developer: Developer; via: "bearer" | "cookie"; tokenId?: string } | null> {
  const s = c.get("services");
  const token = o.bearer ? bearer(c) : null;
  if (token) {
    if (token.startsWith("dat_")) {
      const owner = await accessTokenOwner(s, token);
      if (!owner) throw new UnauthenticatedError("Unknown or revoked access token");
      return { developer: owner.developer, via: "bearer", tokenId: owner.tokenId };
    }
    const dev = s.config.clerk && token.split(".").length === 3
      ? await developerForClerkToken(s, token)
      : null;
    if (!dev) throw new UnauthenticatedError("Unknown or revoked access token");
    return { developer: dev, via: "bearer" };
  }
  const cookie = getCookie(c, SESSION_COOKIE);
  const session = cookie ? await developerForSession(s, cookie) : null;
  if (session) return { developer: session, via: "cookie" };
  const clerkCookie = s.config.clerk ? getCookie(c, "__session") : undefined;
  const clerk = clerkCookie ? await developerForClerkToken(s, clerkCookie) : null;
  return clerk ? { developer: clerk, via: "cookie" } : null;
}

/**
 * Developer-API authentication: `Bearer dat_…`, or the session cookie; cookie-authenticated
 * unsafe requests must come from this server's own origin (CSRF).
 */
export function developerAuth(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const found = await resolveDeveloper(c, { bearer: true });
    if (!found) {
      throw new UnauthenticatedError("Sign in first (session cookie or Bearer dat_… token)");
    }
    if (found.via === "cookie" && UNSAFE.has(c.req.method)) requireSameOrigin(c);
    c.set("developer", found.developer);
    c.set(
      "actor",
      found.tokenId ? `token ${found.tokenId}` : `developer ${found.developer.id}`,
    );
    return next();
  };
}

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
