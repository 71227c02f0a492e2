/** /healthz — 200 when the KV store can be read and written, else 503. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { AppError } from "@/lib/errors.ts";
import { probeStore } from "@/lib/health.ts";

export function mountHealth(app: OpenAPIHono<AppEnv>) {
  app.get("/healthz", async (c) => {
    const problem = await probeStore(c.get("services"));
    if (problem) throw new AppError("service_unavailable", problem);
    return c.json({ ok: true });
  });
}
