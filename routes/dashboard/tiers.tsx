/** /dashboard/projects/:pk/tiers — the tier and product editor. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import { publicTier } from "@/lib/catalog/tiers.ts";
import TierEditor from "@/islands/TierEditor.tsx";
import GrandfatheredPrices from "@/islands/GrandfatheredPrices.tsx";
import { tierPrices } from "@/lib/billing/grandfathering.ts";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";

export function mountTiersPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/tiers",
    page((c, dev) =>
      projectPage(c, {
        dev,
        section: "/tiers",
        title: (p) => (p.type === "store" ? "Products" : "Tiers"),
      }, async (p) => (
        <>
          <p>
            Changes apply at once and never change your keys. Deleting archives the product at the
            payment provider.
          </p>
          <Island
            name="TierEditor"
            component={TierEditor}
            props={{
              pk: p.pk,
              type: p.type,
              tiers: p.tiers.map((t) => publicTier(p, t)),
            }}
          />
          {p.type === "saas" && (
            <Island
              name="GrandfatheredPrices"
              component={GrandfatheredPrices}
              props={{
                pk: p.pk,
                rows: (await Promise.all(
                  p.tiers.map(async (t) => ({
                    tier: t.name,
                    ...(await tierPrices(c.get("services"), p, t)),
                  })),
                )).filter((r) => r.older.length > 0),
              }}
            />
          )}
        </>
      ))
    ),
  );
}
