/** /dashboard/projects/:pk/orders and /orders/:id — a Store's orders: list and detail. */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "@/lib/http/context.ts";
import { Table } from "@/components/Table.tsx";
import { money } from "@/components/MetricCard.tsx";
import { requireType } from "@/lib/projects/projects.ts";
import { buyerOrders, orderPage, publicOrder, requireOrder } from "@/lib/store/orders.ts";
import { page, Pager, projectPage } from "@/routes/dashboard/_page.tsx";
import { Island } from "@/lib/http/render.tsx";
import RefundForm from "@/islands/RefundForm.tsx";

const STATUS: Record<string, string> = {
  paid: "Paid",
  partially_refunded: "Partially refunded",
  refunded: "Refunded",
};
const when = (iso: string) => iso.slice(0, 16).replace("T", " ") + " UTC";
const count = (n: number) => `${n} item${n === 1 ? "" : "s"}`;

export function mountOrdersPages(app: OpenAPIHono<AppEnv>) {
  app.get(
    "/dashboard/projects/:pk/orders",
    page((c, dev) =>
      projectPage(c, { dev, section: "/orders", title: "Orders" }, async (p) => {
        requireType(p, "store");
        const email = c.req.query("email")?.trim().toLowerCase().slice(0, 254) || null;
        const cursor = c.req.query("cursor");
        const pg = email
          ? await buyerOrders(c.get("services"), p, { email, cursor })
          : await orderPage(c.get("services"), p, { cursor });
        return (
          <>
            {email && (
              <p>
                Orders of <strong>{email}</strong> ·{" "}
                <a href={`/dashboard/projects/${p.pk}/orders`}>All orders</a>
              </p>
            )}
            <Table
              caption="Orders, newest first"
              columns={["Order", "Buyer", "Items", "Total", "Status", "Paid"]}
              rows={pg.orders.map((o) => [
                <a key="id" href={`/dashboard/projects/${p.pk}/orders/${o.id}`}>{o.id}</a>,
                o.email ? `${o.name ? `${o.name} · ` : ""}${o.email}` : (o.name ?? "—"),
                count(o.items.reduce((n, i) => n + i.quantity, 0)),
                money(o.amountTotal, o.currency),
                STATUS[o.status] ?? o.status,
                when(o.createdAt),
              ])}
            />
            {pg.orders.length === 0 && <p>No orders yet: paid carts appear here.</p>}
            <p>
              <a class="button secondary" href={`/v1/projects/${p.pk}/orders.csv`} download>
                Download CSV
              </a>
            </p>
            <Pager
              next={pg.nextCursor}
              base={`/dashboard/projects/${p.pk}/orders${
                email ? `?email=${encodeURIComponent(email)}` : ""
              }`}
              cursor={cursor}
              prev={c.req.query("prev")}
            />
          </>
        );
      })
    ),
  );
  app.get(
    "/dashboard/projects/:pk/orders/:id",
    page((c, dev) =>
      projectPage(c, { dev, section: "/orders", title: "Order" }, async (p) => {
        requireType(p, "store");
        const stored = await requireOrder(c.get("services"), p, c.req.param("id") ?? "");
        const o = publicOrder(stored);
        return (
          <>
            <p>
              <a href={`/dashboard/projects/${p.pk}/orders`}>← All orders</a>
            </p>
            <dl class="detail" data-testid="order">
              <dt>Order</dt>
              <dd>{o.id}</dd>
              <dt>Buyer</dt>
              <dd>{o.name ?? "—"}</dd>
              <dt>Email</dt>
              <dd>{o.email ?? "—"}</dd>
              <dt>Status</dt>
              <dd>{STATUS[o.status] ?? o.status}</dd>
              <dt>Paid</dt>
              <dd>{when(o.createdAt)}</dd>
              <dt>Total</dt>
              <dd>{money(o.amountTotal, o.currency)}</dd>
              {o.amountRefunded > 0 && (
                <>
                  <dt>Refunded</dt>
                  <dd>{money(o.amountRefunded, o.currency)}</dd>
                </>
              )}
            </dl>
            <Table
              caption="Items"
              columns={["Product", "Quantity", "Unit price", "Amount"]}
              rows={o.items.map((i) => [
                i.name,
                String(i.quantity),
                money(i.unitAmount, o.currency),
                money(i.unitAmount * i.quantity, o.currency),
              ])}
            />
            <Island
              name="RefundForm"
              component={RefundForm}
              props={{
                pk: p.pk,
                id: o.id,
                left: o.amountTotal - o.amountRefunded,
                currency: o.currency,
                restocked: stored.restocked === true,
              }}
            />
          </>
        );
      })
    ),
  );
}
