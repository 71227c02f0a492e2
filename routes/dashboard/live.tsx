/** /dashboard/projects/:pk/live — edit & go live. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import { publicTier } from "@/lib/catalog/tiers.ts";
import GoLive from "@/islands/GoLive.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountLivePage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/live",
    page((c, dev) =>
      projectPage(c, { dev, section: "/live", title: "Edit & go live" }, (p) => (
        <>
          <p>
            Review the test{" "}
            {p.type === "saas" ? "tiers" : "products"}, adjust them, and create the live project
            with its own live keys.
          </p>
          <Island
            name="GoLive"
            component={GoLive}
            props={{
              pk: p.pk,
              type: p.type,
              tiers: p.tiers.map((t) => publicTier(p, t)),
              livePk: p.livePk,
            }}
          />
        </>
      ))
    ),
  );
}
