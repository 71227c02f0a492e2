/** What routes read from a request beyond validated input: origin, client, bearer, form. */
import type { Context } from "hono";
import type { AppEnv, ConnInfo } from "@/lib/http/context.ts";
import { InvalidRequestError, UnauthenticatedError } from "@/lib/errors.ts";
import { isHttpUrl } from "@/lib/schemas.ts";

/** `application/json` and `application/…+json`. */
export const JSON_TYPE_RE = /^application\/([a-z.+-]*\+)?json\b/i;

/** The server's own origin: BASE_URL when configured, else the request's. */
export function ownOrigin(c: Context<AppEnv>): string {
  return c.get("services").config.baseUrl ?? new URL(c.req.url).origin;
}

/**
 * The origin of the page that made this call (a browser's `Origin`), when it is a plain http(s)
 * origin; null for a call from a server, or an opaque origin ("null").
 */
export function appOrigin(c: Context<AppEnv>): string | null {
  const o = c.req.header("Origin");
  if (o === undefined || !isHttpUrl(o)) return null;
  return new URL(o).origin === o ? o : null;
}

/**
 * The client's address: the connection's peer, or behind `TRUST_PROXY` proxies the
 * `X-Forwarded-For` entry the outermost of them wrote. Each proxy appends the address it got
 * the request from, so that is the entry `TRUST_PROXY` places from the right; the entries
 * before it are the client's own to write (the first one would let a client pick its address,
 * and with it a fresh sign-up, sign-in and hold allowance per request). "local" for in-process
 * calls.
 */
export function clientAddress(c: Context<AppEnv>): string {
  const hops = c.get("services").config.trustProxy;
  if (hops > 0) {
    const list = (c.req.header("X-Forwarded-For") ?? "").split(",").map((a) => a.trim())
      .filter((a) => a !== "");
    // fewer entries than proxies: the furthest one written
    const entry = list[Math.max(0, list.length - hops)];
    if (entry) return entry.slice(0, 64);
  }
  return (c.env as ConnInfo | undefined)?.remoteAddr?.hostname ?? "local";
}

/** The token of `Authorization: Bearer <token>`, or null; any other form is 401. */
export function bearer(c: Context<AppEnv>): string | null {
  const h = c.req.header("Authorization");
  if (!h) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h);
  if (!m) throw new UnauthenticatedError('Authorization must be "Bearer <key>"', "invalid_api_key");
  return m[1]!;
}

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
