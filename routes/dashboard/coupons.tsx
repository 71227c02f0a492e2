/** /dashboard/projects/:pk/coupons — promotion codes with their redemptions. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import CouponsPanel from "@/islands/CouponsPanel.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";
import { listCoupons } from "@/lib/billing/coupons.ts";
import { projectCurrency } from "@/lib/catalog/tiers.ts";

export function mountCouponsPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/coupons",
    page((c, dev) =>
      projectPage(c, { dev, section: "/coupons", title: "Promotion codes" }, async (p) => (
        <>
          <p class="muted">
            Customers enter a code at checkout (or your app passes it as{" "}
            <code>promotionCode</code>). Each code is a coupon on your payment account; MRR counts
            the discounted price while a discount lasts.
          </p>
          <Island
            name="CouponsPanel"
            component={CouponsPanel}
            props={{
              pk: p.pk,
              currency: projectCurrency(p),
              coupons: await listCoupons(c.get("services"), p),
            }}
          />
        </>
      ))
    ),
  );
}
