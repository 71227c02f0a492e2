/** Answers built in one checked way. */
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { ValidationError } from "@/lib/errors.ts";
import { isHttpUrl, isLocalPath } from "@/lib/schemas.ts";

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
