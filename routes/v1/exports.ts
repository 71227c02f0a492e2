/** /v1/projects/:pk/customers.csv, /orders.csv, /events.csv — streamed CSV exports. */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { developerAuth } from "@/lib/http/middleware/developer_auth.ts";
import { ownedProject, requireType } from "@/lib/projects/projects.ts";
import { exportCsv, type ExportKind } from "@/lib/dashboard/exports.ts";
import { DEVELOPER, ERRORS, PkParam } from "@/routes/_openapi.ts";

const route = (kind: ExportKind) =>
  createRoute({
    tags: ["Exports"],
    security: DEVELOPER,
    middleware: [developerAuth()],
    method: "get",
    path: `/v1/projects/{pk}/${kind}.csv`,
    summary: `All ${kind} as CSV (RFC 4180, streamed; formula-like cells prefixed with ')`,
    request: { params: PkParam },
    responses: {
      200: {
        description: "CSV with a header line",
        content: { "text/csv": { schema: z.string() } },
      },
      ...ERRORS,
    },
  });

export function mountExportRoutes(app: OpenAPIHono<AppEnv>) {
  for (const kind of ["customers", "orders", "events"] as const) {
    app.openapi(route(kind), async (c) => {
      const s = c.get("services");
      const p = await ownedProject(s, c.get("developer").id, c.req.valid("param").pk);
      if (kind === "orders") requireType(p, "store");
      if (kind === "customers") requireType(p, "saas");
      const day = new Date(s.clock.now()).toISOString().slice(0, 10);
      // through the context, so the headers set before (X-Request-Id) go with it
      return c.body(exportCsv(s, p, kind), 200, {
        "Content-Type": "text/csv; charset=utf-8; header=present",
        "Content-Disposition": `attachment; filename="${kind}-${p.pk.slice(0, 16)}-${day}.csv"`,
        "Cache-Control": "no-store",
      }) as never;
    });
  }
}
