/** /dashboard/projects/:pk/customers — the customer list. */
import { projectCurrency } from "@/lib/catalog/tiers.ts";
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Table } from "@/components/Table.tsx";
import { customerPage } from "@/lib/customers/customers.ts";
import { countCustomers } from "@/lib/kv/project_stats.ts";
import { buyerPage } from "@/lib/store/orders.ts";
import { money } from "@/components/MetricCard.tsx";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { page, Pager, projectPage } from "@/routes/dashboard/_page.tsx";

/** A Store's customers are its buyers: one row per email, with their orders. */
async function buyersTable(s: Services, p: Project, cursor: string | undefined) {
  const pg = await buyerPage(s, p, { cursor });
  return (
    <>
      <Table
        caption="Buyers, by email"
        columns={["Email", "Name", "Orders", "Spent", "Last order"]}
        rows={pg.buyers.map((b) => [
          <a
            key="email"
            href={`/dashboard/projects/${p.pk}/orders?email=${encodeURIComponent(b.email)}`}
          >
            {b.email}
          </a>,
          b.name ?? "—",
          String(b.orders),
          money(b.spent, projectCurrency(p)),
          b.lastOrderAt.slice(0, 10),
        ])}
      />
      {pg.buyers.length === 0 && <p>No buyers yet: everyone who pays a cart appears here.</p>}
      <Pager next={pg.nextCursor} base={`/dashboard/projects/${p.pk}/customers`} />
    </>
  );
}

export function mountCustomersPage(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/customers",
    page((c, dev) =>
      projectPage(c, { dev, section: "/customers", title: "Customers" }, async (p) => {
        const s = c.get("services");
        const cursor = c.req.query("cursor");
        if (p.type === "store") return buyersTable(s, p, cursor);
        const q = (c.req.query("q") ?? "").trim().slice(0, 254);
        const pg = await customerPage(s, p, { cursor, ...(q ? { q } : {}) });
        const rows = pg.customers;
        return (
          <>
            <form method="get" role="search" class="inline">
              <label for="customer-q">
                Find by id or email prefix
                <input id="customer-q" name="q" type="search" value={q} maxLength={254} />
              </label>
              <button type="submit" class="secondary">Search</button>
              {q && <a href={`/dashboard/projects/${p.pk}/customers`}>Clear</a>}
            </form>
            <Table
              columns={["Customer", "Email", "Plan", "Usage", "Since"]}
              rows={rows.map((r) => [
                <a
                  key="id"
                  href={`/dashboard/projects/${p.pk}/customers/${encodeURIComponent(r.id)}`}
                >
                  {r.id}
                </a>,
                r.email ?? "—",
                r.plan ?? "—",
                `${r.usage.count}${r.usage.limit === null ? "" : ` / ${r.usage.limit}`}`,
                r.createdAt.slice(0, 10),
              ])}
            />
            {rows.length === 0 && <p>{q ? `No customer matches "${q}".` : "No customers yet."}</p>}
            <p>
              <a class="button secondary" href={`/v1/projects/${p.pk}/customers.csv`} download>
                Download CSV
              </a>
            </p>
            <Pager
              next={pg.nextCursor}
              base={`/dashboard/projects/${p.pk}/customers${
                q ? `?q=${encodeURIComponent(q)}` : ""
              }`}
              cursor={cursor}
              prev={c.req.query("prev")}
              {...(q ? {} : { total: await countCustomers(s.kv, p.pk) })}
              shown={rows.length}
            />
          </>
        );
      })
    ),
  );
}
