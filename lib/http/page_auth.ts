/** Who is signed in on a page request (session cookie, or Clerk's session when configured). */
import type { Context } from "hono";
import { getCookie } from "hono/cookie";
import type { AppEnv } from "@/lib/http/context.ts";
import { LOCAL_PATH_RE, SESSION_COOKIE } from "@/lib/http/middleware.ts";
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

/** A safe place to go back to: a path on this server, never another origin. */
export function safeNext(next: string | undefined | null, fallback = "/dashboard"): string {
  return next && LOCAL_PATH_RE.test(next) ? next : fallback;
}
