/** Who is signed in on a page request (session cookie, or Clerk's session when configured). */
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { resolveDeveloper } from "@/lib/http/middleware/developer_auth.ts";
import { isLocalPath } from "@/lib/schemas.ts";
import { ValidationError } from "@/lib/errors.ts";
import type { Developer } from "@/lib/kv/developers.ts";

/** The developer signed in on a page (cookies only: pages take no bearer tokens). */
export async function pageDeveloper(c: Context<AppEnv>): Promise<Developer | null> {
  return (await resolveDeveloper(c, { bearer: false }))?.developer ?? null;
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
