/** /dashboard/projects/:pk/settings — name, currency, end-user sign-in, delete or restore. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Island } from "@/lib/http/render.tsx";
import ProjectSettings from "@/islands/ProjectSettings.tsx";
import ProjectLifecycle from "@/islands/ProjectLifecycle.tsx";
import { page, projectPage } from "@/routes/dashboard/_page.tsx";
import { purgeAt } from "@/lib/projects/lifecycle.ts";
import { projectCurrency } from "@/lib/catalog/tiers.ts";

export function mountSettingsPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/settings",
    page((c, dev) =>
      projectPage(c, { dev, section: "/settings", title: "Settings" }, (p) => {
        const currency = projectCurrency(p);
        return (
          <>
            <Island
              name="ProjectSettings"
              component={ProjectSettings}
              props={{
                pk: p.pk,
                name: p.name,
                endUserAuth: p.endUserAuth ?? null,
                automaticTax: p.automaticTax ?? false,
              }}
            />
            <section aria-labelledby="currency-title">
              <h2 id="currency-title">Currency</h2>
              <p>
                <strong data-testid="project-currency">{currency.toUpperCase()}</strong> — every
                {" "}
                {p.type === "saas" ? "tier" : "product"}{" "}
                is priced in it. It is set when the project is created and can't be changed:
                existing prices and payments stay comparable.
              </p>
            </section>
            <Island
              name="ProjectLifecycle"
              component={ProjectLifecycle}
              props={{
                pk: p.pk,
                name: p.name,
                deletedAt: p.deletedAt ?? null,
                purgeAt: purgeAt(p),
              }}
            />
          </>
        );
      })
    ),
  );
}
