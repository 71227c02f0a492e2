/**
 * JSON bodies of unsafe methods: a non-empty body must be `application/json` and a JSON object
 * (400 otherwise); an empty body counts as `{}`. The body is read from the request itself and
 * handed on as a new request, through Hono's public `c.req.raw` (as the body limit in
 * server/policy.ts does), never through Hono's internal caches.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { InvalidRequestError } from "@/lib/errors.ts";
import { JSON_TYPE_RE } from "@/lib/http/request.ts";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function jsonBody(
  o: { except?: (path: string) => boolean } = {},
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!UNSAFE.has(c.req.method) || o.except?.(c.req.path)) return next();
    const raw = c.req.raw;
    const text = await raw.text(); // bounded already, while it streamed (server/policy.ts)
    const ctype = c.req.header("Content-Type") ?? "";
    if (text.trim() !== "") {
      if (!JSON_TYPE_RE.test(ctype)) {
        throw new InvalidRequestError("Content-Type must be application/json", [
          {
            field: "Content-Type",
            message: `expected application/json, got "${ctype || "nothing"}"`,
          },
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
    }
    const headers = new Headers(raw.headers);
    if (text.trim() === "") headers.set("Content-Type", "application/json");
    c.req.raw = new Request(raw.url, {
      method: raw.method,
      headers,
      body: text.trim() === "" ? "{}" : text,
      // not `signal: raw.signal`: reading it makes Deno print a plain-text warning into the
      // JSON log, and no handler here waits on the client going away
    });
    return next();
  };
}
