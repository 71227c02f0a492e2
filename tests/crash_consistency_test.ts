/**
 * [e2e] kill -9 in the middle of everything at once — usage tracking, subscription checkouts,
 * portal changes, cancels and deletions, store carts, completions, refunds and outbound
 * deliveries — four times over, each time restarted on the same data dir; afterwards the store
 * agrees with itself and with what was acknowledged:
 * - usage: every acknowledged increment is counted, none beyond those cut off;
 * - SaaS: the dashboard's aggregates equal what the customers' own records add up to;
 * - Store: every completed checkout is an order, no stock is lost beyond the holds of carts whose
 *   answer the kill cut off (they end with their session), none made up; sales and revenue match;
 * - outbound: every standing customer's `customer.created` and every order's `order.paid` arrive,
 *   signed (the outbox is in the store, so a restart loses nothing).
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { freePort, seedProject, startServer, waitUp } from "@/tasks/server_process.ts";
import { prng } from "./prng.ts";

const INIT: Record<string, number> = { mug: 40, cap: 30, hat: 35 };
const PRICES: Record<string, number> = { free: 0, bulk: 0, pro: 1000, max: 3000 };
const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
}

/** A client of the server at `base` whose calls never throw: a cut-off call answers null. */
function client(base: string) {
  const stats: Record<string, number> = {};
  async function call(
    name: string,
    method: string,
    path: string,
    o: { key?: string; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer | null> {
    const headers: Record<string, string> = { ...o.headers };
    if (o.key) headers.Authorization = `Bearer ${o.key}`;
    if (o.body !== undefined) headers["Content-Type"] = "application/json";
    try {
      const r = await fetch(base + path, {
        method,
        headers,
        body: o.body === undefined ? null : JSON.stringify(o.body),
        redirect: "manual",
      });
      const text = await r.text();
      stats[`${name}:${r.status}`] = (stats[`${name}:${r.status}`] ?? 0) + 1;
      return { status: r.status, body: text ? JSON.parse(text) : null };
    } catch {
      stats[`${name}:cut`] = (stats[`${name}:cut`] ?? 0) + 1;
      return null;
    }
  }
  return { call, stats };
}

/** Every page of a cursor-paginated list. */
async function all(
  call: ReturnType<typeof client>["call"],
  path: string,
  field: string,
  key: string,
) {
  const out: { [k: string]: unknown }[] = [];
  let cursor: string | null = null;
  do {
    const r = await call("list", "GET", `${path}?limit=100${cursor ? `&cursor=${cursor}` : ""}`, {
      key,
    });
    assert.equal(r?.status, 200);
    out.push(...r!.body[field]);
    cursor = r!.body.nextCursor;
  } while (cursor);
  return out;
}

Deno.test({
  name:
    "[e2e] kill -9 four times under mixed billing, store and tracking load: counts, aggregates, stock and outbound deliveries stay whole",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "dream-crash-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    const start = () =>
      startServer(port, dataDir, {
        logLevel: "error",
        stderr: "null",
        env: { WEBHOOK_ALLOW_PRIVATE: "1" },
      });
    let server = start();
    const delivered: { type: string; id: string }[] = [];
    const verifiers: Record<string, Webhook> = {};
    const receiver = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      async (req) => {
        const body = await req.text();
        const which = new URL(req.url).pathname.slice(1);
        verifiers[which]!.verify(body, Object.fromEntries(req.headers)); // a bad one throws: 500
        const e = JSON.parse(body);
        delivered.push({ type: e.type, id: e.data.object.id });
        return new Response("ok");
      },
    );
    try {
      await waitUp(`${base}/healthz`);
      const saas = await seedProject(base, "crash@example.com", {
        name: "Meter",
        type: "saas",
        tiers: [
          { name: "free", price: 0, limit: 5 },
          { name: "bulk", price: 0, limit: 1_000_000_000 },
          { name: "pro", price: 1000, limit: 100 },
          { name: "max", price: 3000, limit: 1000 },
        ],
      });
      const dat = saas.dat;
      const { call, stats } = client(base);
      // the sandbox connects an account at once
      const connect = await fetch(`${base}/v1/connect/authorize`, {
        headers: { Authorization: `Bearer ${dat}` },
        redirect: "manual",
      });
      await connect.body?.cancel();
      assert.ok(connect.status < 400, `connect: ${connect.status}`);
      const store = await call("project", "POST", "/v1/projects", {
        key: dat,
        body: {
          name: "Shop",
          type: "store",
          tiers: Object.entries(INIT).map(([name, inventory]) => ({
            name,
            price: 500 + 100 * inventory,
            inventory,
          })),
        },
      });
      assert.equal(store?.status, 201);
      const shop = { pk: store!.body.publishableKey as string };
      for (const [name, pk] of [["saas", saas.pk], ["store", shop.pk]] as const) {
        const r = await call("webhook", "POST", `/v1/projects/${pk}/webhooks`, {
          key: dat,
          body: { url: `http://127.0.0.1:${receiver.addr.port}/${name}` },
        });
        assert.equal(r?.status, 201);
        verifiers[name] = new Webhook(r!.body.secret);
      }
      const products = (await call("products", "GET", "/api/products", { key: shop.pk }))!.body
        .products as { id: string; name: string }[];
      const nameOf = new Map(products.map((p) => [p.id, p.name]));
      const bulk = Array.from({ length: 6 }, (_, i) => `b${i}`);
      for (const id of bulk) {
        const r = await call("create", "POST", "/api/customers", {
          key: saas.sk,
          body: { id, plan: "bulk" },
        });
        assert.equal(r?.status, 201);
      }

      const random = prng(20261206);
      const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
      const users = Array.from({ length: 10 }, (_, i) => `u${i}`);
      // usage: acknowledged, and cut off (maybe counted) per customer
      const acked: Record<string, number> = {};
      const cut: Record<string, number> = {};
      const open: string[] = [];
      let cutCartQuantity = 0;
      const onUser = (u: string) => ({ key: saas.sk, headers: { "X-User-Id": u } });
      const path = (url: string) => new URL(url).pathname;
      const track = async (u: string, quantity: number) => {
        const r = await call("track", "POST", "/api/data", { ...onUser(u), body: { quantity } });
        if (r === null || r.status >= 500) cut[u] = (cut[u] ?? 0) + quantity;
        else if (r.status === 200) acked[u] = (acked[u] ?? 0) + quantity;
      };
      const ops: (() => Promise<unknown>)[] = [
        () => track(pick(bulk), 1 + Math.floor(random() * 3)),
        () => track(pick(bulk), 1),
        () => track(pick(users), 1),
        () => call("create", "POST", "/api/customers", { key: saas.sk, body: { id: pick(users) } }),
        async () => {
          const co = await call("checkout", "POST", "/api/create-checkout", {
            ...onUser(pick(users)),
            body: { tier: pick(["pro", "max"]), ...URLS },
          });
          if (co?.status === 200) await call("pay", "POST", `${path(co.body.url)}/complete`);
        },
        async () => {
          const portal = await call("portal", "POST", "/api/customer-portal", {
            ...onUser(pick(users)),
            body: { returnUrl: "https://app.example/billing" },
          });
          if (portal?.status !== 200) return;
          const action = pick(["cancel", "resume", "switch"]);
          await call(
            `portal-${action}`,
            "POST",
            `${path(portal.body.url)}/${action}`,
            action === "switch" ? { body: { tier: pick(["pro", "max"]) } } : {},
          );
        },
        () => call("cancel", "POST", "/api/subscription/cancel", { ...onUser(pick(users)) }),
        () => call("resume", "POST", "/api/subscription/resume", { ...onUser(pick(users)) }),
        () => call("delete", "DELETE", `/api/customers/${pick(users)}`, { key: saas.sk }),
        async () => {
          const items = [...new Set([pick(products), pick(products)])].map((p) => ({
            productId: p.id,
            quantity: 1 + Math.floor(random() * 2),
          }));
          const quantity = items.reduce((a, i) => a + i.quantity, 0);
          const r = await call("cart", "POST", "/api/cart/checkout", {
            key: shop.pk,
            body: { items, email: "buyer@example.com", ...URLS },
            headers: { "X-Forwarded-For": `10.0.0.${Math.floor(random() * 200)}` },
          });
          if (r === null || r.status >= 500) cutCartQuantity += quantity;
          if (r?.status === 200) open.push(r.body.url);
        },
        async () => {
          const url = open.splice(Math.floor(random() * open.length), 1)[0];
          if (!url) return;
          const how = pick(["complete", "complete", "cancel", "expire"]);
          const r = await call(`session-${how}`, "POST", `${path(url)}/${how}`);
          if (r === null || r.status >= 500) open.push(url);
        },
        async () => {
          const orders = (await call("orders", "GET", `/v1/projects/${shop.pk}/orders?limit=100`, {
            key: dat,
          }))?.body?.orders ?? [];
          const o = orders.length ? pick(orders as { id: string; amountTotal: number }[]) : null;
          if (!o) return;
          await call("refund", "POST", `/v1/projects/${shop.pk}/orders/${o.id}/refund`, {
            key: dat,
            body: { amount: Math.max(1, Math.floor(o.amountTotal / 4)) },
          });
        },
      ];
      const weights = [0, 0, 0, 1, 2, 3, 3, 4, 4, 4, 5, 5, 6, 7, 8, 9, 9, 9, 10, 10, 10, 11];
      const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
      const ackedNow = () => Object.values(acked).reduce((a, b) => a + b, 0);
      // `ms` of load, and on a slow machine longer, until 60 more tracked calls were acknowledged
      // (at most 30 s): the kill always comes in the middle of real work
      const load = async (ms: number) => {
        let stop = false;
        const from = ackedNow();
        const t0 = Date.now();
        const workers = Array.from({ length: 8 }, async () => {
          while (!stop) await ops[pick(weights)]!();
        });
        await sleep(ms);
        while (ackedNow() - from < 60 && Date.now() - t0 < 30_000) await sleep(50);
        return { stop: () => (stop = true, Promise.all(workers)) };
      };

      for (const ms of [600, 900, 1200, 1500]) {
        const running = await load(ms);
        server.kill("SIGKILL");
        await server.status;
        await running.stop();
        server = start();
        await waitUp(`${base}/healthz`);
      }
      await (await load(1000)).stop(); // a calm stretch after the last restart
      for (const url of open.splice(0)) await call("session-cancel", "POST", `${path(url)}/cancel`);
      await sleep(2500); // events are applied within 2 s
      const kills = Object.entries(stats).filter(([k]) => k.endsWith(":cut"));
      assert.ok(kills.length > 0, "the kills cut calls off");
      const summary = JSON.stringify(stats);

      // usage
      for (const u of [...bulk, ...users]) {
        const r = await call("usage", "GET", "/api/usage", onUser(u));
        const count = r!.body.usage.count as number;
        const low = acked[u] ?? 0;
        if (bulk.includes(u)) {
          assert.ok(count >= low && count <= low + (cut[u] ?? 0), `${u}: ${count}, ${low} acked`);
        }
      }
      const ackedAll = Object.values(acked).reduce((a, b) => a + b, 0);
      const cutAll = Object.values(cut).reduce((a, b) => a + b, 0);
      assert.ok(ackedAll > 200, `tracking reached the server (${summary})`);

      // SaaS aggregates against the customers' own records
      const customers = await all(call, `/v1/projects/${saas.pk}/customers`, "customers", dat) as {
        id: string;
        plan: string;
        subscription: { status: string; tier: string; cancelAtPeriodEnd: boolean } | null;
      }[];
      const paying = customers.filter((c) =>
        c.subscription && ["active", "trialing", "past_due"].includes(c.subscription.status)
      );
      const dash = (await call("dashboard", "GET", `/v1/projects/${saas.pk}/dashboard`, {
        key: dat,
      }))!.body;
      assert.deepEqual(
        {
          customers: dash.customers,
          activeSubscriptions: dash.activeSubscriptions,
          canceling: dash.canceling,
          mrr: dash.mrr,
        },
        {
          customers: customers.length,
          activeSubscriptions: paying.length,
          canceling: paying.filter((c) => c.subscription!.cancelAtPeriodEnd).length,
          mrr: paying.reduce((a, c) => a + PRICES[c.subscription!.tier]!, 0),
        },
        summary,
      );
      for (const c of paying) assert.equal(c.plan, c.subscription!.tier, `${c.id}'s plan`);
      assert.ok(paying.length > 0, `checkouts were paid (${summary})`);
      assert.ok(
        dash.usageThisPeriod >= ackedAll && dash.usageThisPeriod <= ackedAll + cutAll,
        `usage this period ${dash.usageThisPeriod}: ${ackedAll} acked, ${cutAll} cut off`,
      );

      // Store: orders, stock and the dashboard
      const orders = await all(call, `/v1/projects/${shop.pk}/orders`, "orders", dat) as {
        id: string;
        amountTotal: number;
        amountRefunded: number;
        items: { productId: string; quantity: number }[];
      }[];
      const paid = stats["session-complete:200"] ?? 0;
      assert.ok(paid > 0, `store checkouts were paid (${summary})`);
      assert.ok(
        orders.length >= paid && orders.length <= paid + (stats["session-complete:cut"] ?? 0),
        `${orders.length} orders for ${paid} completions (${summary})`,
      );
      const sold: Record<string, number> = { mug: 0, cap: 0, hat: 0 };
      for (const o of orders) {
        for (const i of o.items) sold[nameOf.get(i.productId)!]! += i.quantity;
        assert.ok(o.amountRefunded <= o.amountTotal, `order ${o.id} refunded beyond its total`);
      }
      const now = (await call("products", "GET", "/api/products", { key: shop.pk }))!.body
        .products as { name: string; inventory: number }[];
      let held = 0;
      for (const p of now) {
        const missing = INIT[p.name]! - sold[p.name]! - p.inventory;
        assert.ok(missing >= 0, `${p.name}: ${p.inventory} in stock, ${sold[p.name]} sold`);
        held += missing;
      }
      assert.ok(held <= cutCartQuantity, `${held} held, ${cutCartQuantity} in carts cut off`);
      const sdash = (await call("dashboard", "GET", `/v1/projects/${shop.pk}/dashboard`, {
        key: dat,
      }))!.body;
      assert.equal(sdash.sales, orders.length);
      assert.equal(sdash.revenue, orders.reduce((a, o) => a + o.amountTotal - o.amountRefunded, 0));

      // outbound: what stands was told, whatever the kills interrupted (an endpoint whose lease a
      // killed instance held waits out the lease, 30 s, before the next instance sends)
      const owed = () => [
        ...customers.filter((c) =>
          !delivered.some((d) => d.type === "customer.created" && d.id === c.id)
        ).map((c) => `customer.created ${c.id}`),
        ...orders.filter((o) => !delivered.some((d) => d.type === "order.paid" && d.id === o.id))
          .map((o) => `order.paid ${o.id}`),
      ];
      for (let i = 0; i < 120 && owed().length > 0; i++) {
        await sleep(500);
      }
      assert.deepEqual(owed(), []);
    } finally {
      server.kill("SIGKILL");
      await server.status.catch(() => {});
      await receiver.shutdown();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
