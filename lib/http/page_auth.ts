/** Who is signed in on a page request (session cookie, or Clerk's session when configured). */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "@/lib/http/context.ts";
import { SESSION_COOKIE } from "@/lib/http/middleware.ts";
import { isLocalPath } from "@/lib/schemas.ts";
import { ValidationError } from "@/lib/errors.ts";
import { developerForSession } from "@/lib/accounts/accounts.ts";
import { developerForClerkToken } from "@/lib/accounts/clerk.ts";
import type { Developer } from "@/lib/kv/developers.ts";

export async function pageDeveloper(c: Context<AppEnv>): Promise<Developer | null> {
  const s = c.get("services");
  const cookie = getCookie(c, SESSION_COOKIE);
  if (cookie) {
    const dev = await developerForSession(s, cookie);
    if (dev) return dev;
  }
  const clerk = s.config.clerk ? getCookie(c, "__session") : undefined;
  return clerk ? await developerForClerkToken(s, clerk) : null;
}

/**
 * Where to go back to: `fallback` when no `next` was given; a path on this server when it was;
 * anything else (another origin, controls, spaces) is 422.
 */
export function safeNext(next: string | undefined | null, fallback = "/dashboard"): string {
  if (next === undefined || next === null || next === "") return fallback;
  if (!isLocalPath(next)) {
    throw new ValidationError("next must be a path on this server", [
      { field: "next", message: "must be a path on this server" },
    ]);
  }
  return next;
}
