/**
 * Request ids: Hono's own `requestId` middleware, with our generator and the rule the hot path
 * shares (`REQUEST_ID_RE` in lib/http/security.ts): a sane incoming `X-Request-Id` is echoed,
 * anything else gets a new id.
 */
import { requestId as honoRequestId } from "hono/request-id";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { newRequestId } from "@/lib/ids.ts";
import { REQUEST_ID_MAX } from "@/lib/http/security.ts";

export function requestId(): MiddlewareHandler<AppEnv> {
  return honoRequestId({
    limitLength: REQUEST_ID_MAX,
    headerName: "X-Request-Id",
    generator: () => newRequestId(),
  }) as unknown as MiddlewareHandler<AppEnv>;
}
