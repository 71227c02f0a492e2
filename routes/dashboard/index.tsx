/** /dashboard (projects and the getting-started checklist), /dashboard/plan, /dashboard/switch. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { money } from "@/components/MetricCard.tsx";
import { Table } from "@/components/Table.tsx";
import { ownOrigin } from "@/lib/http/request.ts";
import { redirectTo } from "@/lib/http/response.ts";
import { requireSameOrigin } from "@/lib/http/middleware/csrf.ts";
import { listProjects } from "@/lib/projects/projects.ts";
import { startPlatformCheckout } from "@/lib/billing/platform.ts";
import { html, page } from "@/routes/dashboard/_page.tsx";

export function mountIndexPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard",
    page(async (c, dev) => {
      const s = c.get("services");
      const projects = await listProjects(s, dev.id);
      const priced = s.config.platformPriceCents > 0;
      const steps = [
        ...(priced
          ? [{
            done: dev.planStatus === "active",
            label: `Start the platform plan (${
              money(s.config.platformPriceCents, s.config.platformCurrency)
            }/month)`,
            action: (
              <form method="post" action="/dashboard/plan" class="inline">
                <button type="submit">Start the plan</button>
              </form>
            ),
          }]
          : []),
        {
          done: dev.connection !== null,
          label: s.payments.kind === "sandbox"
            ? "Connect payments (sandbox: no Stripe account needed)"
            : "Connect your Stripe account",
          action: (
            <a class="button" href="/v1/connect/authorize?returnTo=/dashboard">Connect payments</a>
          ),
        },
        {
          done: projects.length > 0,
          label: "Create your first project",
          action: <a class="button" href="/dashboard/new">New project</a>,
        },
      ];
      return html(
        c,
        { dev, title: "Dashboard" },
        (
          <>
            <h1>Dashboard</h1>
            <section aria-labelledby="onboarding-h">
              <h2 id="onboarding-h">Getting started</h2>
              <ol class="checklist">
                {steps.map((st) => (
                  <li class={st.done ? "done" : ""}>
                    <span>{st.done ? "✓ " : ""}{st.label}</span>{" "}
                    {st.done ? <span class="sr-only">(done)</span> : st.action}
                  </li>
                ))}
              </ol>
            </section>
            <section aria-labelledby="projects-h">
              <h2 id="projects-h">Projects</h2>
              <p>
                <a class="button" href="/dashboard/new">New project</a>
              </p>
              {projects.length
                ? (
                  <Table
                    columns={["Name", "Type", "Mode", "Publishable key"]}
                    rows={projects.map((p) => [
                      <a key="name" href={`/dashboard/projects/${p.pk}`}>
                        {p.name}
                        {p.deletedAt ? " (deleted)" : ""}
                      </a>,
                      p.type === "saas" ? "SaaS" : "Store",
                      p.mode,
                      <code key="pk">{p.pk}</code>,
                    ])}
                  />
                )
                : <p>No projects yet.</p>}
            </section>
          </>
        ),
      );
    }),
  );

  app.post(
    "/dashboard/plan",
    page(async (c, dev) => {
      requireSameOrigin(c);
      const origin = ownOrigin(c);
      const { url } = await startPlatformCheckout(c.get("services"), dev, {
        origin,
        successUrl: `${origin}/dashboard`,
        cancelUrl: `${origin}/dashboard`,
      });
      return redirectTo(c, url, 303);
    }),
  );

  app.get(
    "/dashboard/switch",
    page((c) =>
      Promise.resolve(
        c.redirect(`/dashboard/projects/${encodeURIComponent(c.req.query("pk") ?? "")}`, 303),
      )
    ),
  );
}
