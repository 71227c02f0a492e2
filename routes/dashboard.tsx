/** /dashboard… — the developer dashboard: server-rendered pages, interactive parts as islands. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { Layout } from "@/components/Layout.tsx";
import { MetricCard, money } from "@/components/MetricCard.tsx";
import { ProjectNav } from "@/components/ProjectNav.tsx";
import { Table } from "@/components/Table.tsx";
import { Island, renderPage } from "@/lib/http/render.tsx";
import { pageDeveloper } from "@/lib/http/page_auth.ts";
import { ownOrigin } from "@/lib/http/request.ts";
import { redirectTo } from "@/lib/http/response.ts";
import { requireSameOrigin } from "@/lib/http/middleware/csrf.ts";
import type { Developer } from "@/lib/kv/developers.ts";
import { keyList, listProjects, ownedProject } from "@/lib/projects/projects.ts";
import { projectMetrics, usageTimeSeries } from "@/lib/dashboard/metrics.ts";
import { listCustomers } from "@/lib/kv/customers.ts";
import { listEvents } from "@/lib/kv/events.ts";
import { customerView, requireCustomer } from "@/lib/customers/customers.ts";
import { publicTier } from "@/lib/catalog/tiers.ts";
import { listTokens } from "@/lib/accounts/accounts.ts";
import { startPlatformCheckout } from "@/lib/billing/platform.ts";
import type { Project } from "@/lib/kv/projects.ts";
import ProjectWizard from "@/islands/ProjectWizard.tsx";
import TierEditor from "@/islands/TierEditor.tsx";
import UsageChart from "@/islands/UsageChart.tsx";
import KeysPanel from "@/islands/KeysPanel.tsx";
import GoLive from "@/islands/GoLive.tsx";
import TokensPanel from "@/islands/TokensPanel.tsx";
import CopyButton from "@/islands/CopyButton.tsx";
import type { ComponentChildren } from "preact";

type Page = (c: Context<AppEnv>, dev: Developer) => Promise<Response>;

/** Pages need a signed-in developer; others go to sign-in and come back. */
function page(handler: Page) {
  return async (c: Context<AppEnv>) => {
    const dev = await pageDeveloper(c);
    if (!dev) return c.redirect(`/signin?next=${encodeURIComponent(c.req.path)}`, 303);
    return handler(c, dev);
  };
}

function html(c: Context<AppEnv>, dev: Developer, title: string, body: ComponentChildren) {
  return c.html(
    renderPage(<Layout title={`${title} — dream-api`} user={{ email: dev.email }}>{body}</Layout>),
  );
}

async function projectPage(
  c: Context<AppEnv>,
  dev: Developer,
  section: string,
  title: string,
  body: (p: Project) => Promise<ComponentChildren> | ComponentChildren,
) {
  const s = c.get("services");
  const p = await ownedProject(s, dev.id, c.req.param("pk")!);
  const projects = await listProjects(s, dev.id);
  const testTwin = projects.find((x) => x.livePk === p.pk)?.pk ?? null;
  return html(
    c,
    dev,
    `${title} · ${p.name}`,
    (
      <>
        <h1>
          {p.name} <span class="type">{p.type === "saas" ? "SaaS" : "Store"}</span>
        </h1>
        <ProjectNav project={p} projects={projects} current={section} testTwin={testTwin} />
        {s.payments.kind === "sandbox" && (p.mode === "live" || section === "/live") && (
          <p class="warning" role="note" data-testid="no-live-provider">
            <strong>Live mode has no real payment provider configured.</strong>{" "}
            This server runs the offline sandbox: live checkouts are sandbox payments and no money
            moves. Set <code>STRIPE_SECRET_KEY_TEST</code>, <code>STRIPE_SECRET_KEY_LIVE</code> and
            {" "}
            <code>STRIPE_WEBHOOK_SECRETS</code> to take real payments.
          </p>
        )}
        <h2>{title}</h2>
        {await body(p)}
      </>
    ),
  );
}

function Pager(props: { next: string | null; base: string }) {
  return props.next
    ? (
      <nav aria-label="Pages">
        <a href={`${props.base}?cursor=${encodeURIComponent(props.next)}`} rel="next">Next page</a>
      </nav>
    )
    : null;
}

export function mountDashboard(app: OpenAPIHono<AppEnv>) {
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
        dev,
        "Dashboard",
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
                      <a key="name" href={`/dashboard/projects/${p.pk}`}>{p.name}</a>,
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

  app.get(
    "/dashboard/new",
    page((c, dev) =>
      Promise.resolve(html(
        c,
        dev,
        "New project",
        (
          <>
            <h1>New project</h1>
            <Island name="ProjectWizard" component={ProjectWizard} props={{}} />
          </>
        ),
      ))
    ),
  );

  app.get(
    "/dashboard/projects/:pk",
    page((c, dev) =>
      projectPage(c, dev, "", "Overview", async (p) => {
        const s = c.get("services");
        const m = await projectMetrics(s, p);
        const series = await usageTimeSeries(s, p);
        return m.type === "saas"
          ? (
            <>
              <dl class="metrics">
                <MetricCard
                  label="Active subscriptions"
                  value={m.activeSubscriptions}
                  testId="m-active"
                />
                <MetricCard label="Canceling" value={m.canceling} testId="m-canceling" />
                <MetricCard label="MRR" value={money(m.mrr, m.currency)} testId="m-mrr" />
                <MetricCard label="Usage this period" value={m.usageThisPeriod} testId="m-usage" />
                <MetricCard label="Customers" value={m.customers} testId="m-customers" />
              </dl>
              <Island name="UsageChart" component={UsageChart} props={{ series }} />
            </>
          )
          : (
            <dl class="metrics">
              <MetricCard label="Sales" value={m.sales} testId="m-sales" />
              <MetricCard label="Revenue" value={money(m.revenue, m.currency)} testId="m-revenue" />
              <MetricCard label="In stock" value={m.inStock} testId="m-instock" />
              <MetricCard label="Low stock" value={m.lowStock} testId="m-lowstock" />
              <MetricCard label="Sold out" value={m.soldOut} testId="m-soldout" />
            </dl>
          );
      })
    ),
  );

  app.get(
    "/dashboard/projects/:pk/tiers",
    page((c, dev) =>
      projectPage(c, dev, "/tiers", "Tiers & products", (p) => (
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
        </>
      ))
    ),
  );

  app.get(
    "/dashboard/projects/:pk/customers",
    page((c, dev) =>
      projectPage(c, dev, "/customers", "Customers", async (p) => {
        const s = c.get("services");
        const cursor = c.req.query("cursor");
        const pg = await listCustomers(s.kv, p.pk, { limit: 25, ...(cursor ? { cursor } : {}) });
        const rows = await Promise.all(pg.items.map((cu) => customerView(s, p, cu)));
        return (
          <>
            <Table
              columns={["Customer", "Plan", "Usage", "Since"]}
              rows={rows.map((r) => [
                <a
                  key="id"
                  href={`/dashboard/projects/${p.pk}/customers/${encodeURIComponent(r.id)}`}
                >
                  {r.id}
                </a>,
                r.plan ?? "—",
                `${r.usage.count}${r.usage.limit === null ? "" : ` / ${r.usage.limit}`}`,
                r.createdAt.slice(0, 10),
              ])}
            />
            {rows.length === 0 && <p>No customers yet.</p>}
            <Pager next={pg.nextCursor} base={`/dashboard/projects/${p.pk}/customers`} />
          </>
        );
      })
    ),
  );

  app.get(
    "/dashboard/projects/:pk/customers/:id",
    page((c, dev) =>
      projectPage(c, dev, "/customers", "Customer", async (p) => {
        const s = c.get("services");
        const cu = await customerView(s, p, await requireCustomer(s, p.pk, c.req.param("id")!));
        return (
          <dl class="detail">
            <dt>Id</dt>
            <dd>{cu.id}</dd>
            <dt>Email</dt>
            <dd>{cu.email ?? "—"}</dd>
            <dt>Plan</dt>
            <dd data-testid="customer-plan">{cu.plan ?? "—"}</dd>
            <dt>Subscription</dt>
            <dd>
              {cu.subscription
                ? `${cu.subscription.tier} — ${cu.subscription.status}${
                  cu.subscription.cancelAtPeriodEnd ? " (cancels at period end)" : ""
                }, until ${cu.subscription.currentPeriodEnd.slice(0, 10)}`
                : "none"}
            </dd>
            <dt>Usage this period</dt>
            <dd>
              {cu.usage.count}
              {cu.usage.limit === null ? " (unlimited)" : ` of ${cu.usage.limit}`}{" "}
              ({cu.usage.periodStart.slice(0, 10)} – {cu.usage.periodEnd.slice(0, 10)})
            </dd>
          </dl>
        );
      })
    ),
  );

  app.get(
    "/dashboard/projects/:pk/events",
    page((c, dev) =>
      projectPage(c, dev, "/events", "Events", async (p) => {
        const cursor = c.req.query("cursor");
        const pg = await listEvents(c.get("services").kv, p.pk, {
          limit: 25,
          ...(cursor ? { cursor } : {}),
        });
        return (
          <>
            <Table
              columns={["When", "Type", "What", "Outcome"]}
              rows={pg.items.map((e) => [
                new Date(e.created * 1000).toISOString().replace("T", " ").slice(0, 19),
                <code key="type">{e.type}</code>,
                e.summary,
                e.outcome,
              ])}
            />
            {pg.items.length === 0 && <p>No events yet.</p>}
            <Pager next={pg.nextCursor} base={`/dashboard/projects/${p.pk}/events`} />
          </>
        );
      })
    ),
  );

  app.get(
    "/dashboard/projects/:pk/keys",
    page((c, dev) =>
      projectPage(c, dev, "/keys", "Keys", (p) => (
        <>
          <p>
            Publishable key (safe in browsers): <code data-testid="pk">{p.pk}</code>{" "}
            <Island name="CopyButton" component={CopyButton} props={{ text: p.pk }} />
          </p>
          <p>The secret key was shown once when it was created. Lost it? Rotate it.</p>
          <Island
            name="KeysPanel"
            component={KeysPanel}
            props={{ pk: p.pk, keys: keyList(p, c.get("services").clock.now()) }}
          />
        </>
      ))
    ),
  );

  app.get(
    "/dashboard/projects/:pk/live",
    page((c, dev) =>
      projectPage(c, dev, "/live", "Edit & go live", (p) => (
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

  app.get(
    "/dashboard/projects/:pk/integrate",
    page((c, dev) =>
      projectPage(c, dev, "/integrate", "Integrate", (p) => {
        const base = ownOrigin(c);
        const sk = p.mode === "live" ? "sk_live_…" : "sk_test_…";
        const snippets = p.type === "saas"
          ? [
            [
              "Track usage (your server)",
              `curl -X POST ${base}/api/data \\\n  -H "Authorization: Bearer ${sk}" \\\n  -H "X-User-Id: user_42"`,
            ],
            [
              "Read usage",
              `curl ${base}/api/usage -H "Authorization: Bearer ${sk}" -H "X-User-Id: user_42"`,
            ],
            ["Pricing page (browser)", `curl ${base}/api/tiers -H "Authorization: Bearer ${p.pk}"`],
            [
              "SDK (server)",
              `import { DreamApi } from "dream-api";\nconst dream = new DreamApi({ secretKey: process.env.DREAM_SECRET_KEY, baseUrl: "${base}" });\nawait dream.usage.track("user_42");`,
            ],
            [
              "SDK (browser)",
              `import { DreamBrowser } from "dream-api";\nconst dream = new DreamBrowser({ publishableKey: "${p.pk}", baseUrl: "${base}" });\nconst { tiers } = await dream.tiers();`,
            ],
          ]
          : [
            ["Products (browser)", `curl ${base}/api/products -H "Authorization: Bearer ${p.pk}"`],
            [
              "Cart checkout (browser)",
              `curl -X POST ${base}/api/cart/checkout -H "Authorization: Bearer ${p.pk}" \\\n  -H "Content-Type: application/json" \\\n  -d '{"items":[{"productId":"prod_…","quantity":1}],"successUrl":"https://your.shop/thanks","cancelUrl":"https://your.shop/cart"}'`,
            ],
            [
              "SDK (browser)",
              `import { DreamBrowser } from "dream-api";\nconst dream = new DreamBrowser({ publishableKey: "${p.pk}", baseUrl: "${base}" });\nconst { url } = await dream.cart.checkout({ items, successUrl, cancelUrl });`,
            ],
          ];
        return (
          <>
            {snippets.map(([title, code]) => (
              <section>
                <h3>{title}</h3>
                <pre><code>{code}</code></pre>
              </section>
            ))}
            <p>
              Full reference: <a href="/docs">API docs</a> ·{" "}
              <a href="/openapi.json">OpenAPI document</a>
            </p>
          </>
        );
      })
    ),
  );

  app.get(
    "/dashboard/tokens",
    page(async (c, dev) => {
      const tokens = await listTokens(c.get("services"), dev.id);
      return html(
        c,
        dev,
        "Access tokens",
        (
          <>
            <h1>Access tokens</h1>
            <p>
              For automation and CLIs: send <code>Authorization: Bearer dat_…</code>{" "}
              to the developer API.
            </p>
            <Island name="TokensPanel" component={TokensPanel} props={{ tokens }} />
          </>
        ),
      );
    }),
  );
}
