/** /healthz — 200 when the KV store answers. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { AppError } from "@/lib/errors.ts";

export function mountHealth(app: OpenAPIHono<AppEnv>) {
  app.get("/healthz", async (c) => {
    try {
      await c.get("services").kv.get(["healthz"]);
    } catch {
      throw new AppError("internal_error", "The KV store does not answer");
    }
    return c.json({ ok: true });
  });
}
