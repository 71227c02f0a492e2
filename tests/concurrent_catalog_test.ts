/**
 * [e2e] Developers editing tiers and products (create, edit, archive, delete, rename, codes) while
 * customers track usage, buy, fill carts, pay and get refunds, all at once: no answer is a 5xx,
 * nothing is logged as an error, and what is left agrees with itself — every customer is on one of
 * the project's tiers with that tier's limit, every paying customer's plan is its subscription's
 * tier, the dashboard's subscriptions match the customers', and no stock is negative.
 */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { prng } from "./prng.ts";

const URLS = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };

Deno.test("[e2e] catalog edits racing customers' calls: no 5xx, and the state agrees with itself", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const saas = await project(app, dev.dat, {
    tiers: [
      { name: "free", price: 0, limit: 50 },
      { name: "pro", price: 1000, limit: 100 },
      { name: "max", price: 3000, limit: 1000 },
    ],
  });
  const shop = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 20 }, {
      name: "cap",
      price: 800,
      inventory: 10,
    }],
  });
  const random = prng(6122026);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const failures: string[] = [];
  const seen = new Map<string, number>();
  const call = async (what: string, method: string, path: string, o = {}) => {
    const r = await srv.call(method, path, o);
    seen.set(`${what} ${r.status}`, (seen.get(`${what} ${r.status}`) ?? 0) + 1);
    if (r.status >= 500) failures.push(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  const dat = { key: dev.dat };
  const tierNames = ["pro", "max", "team", "extra"];
  const productNames = ["mug", "cap", "hat", "pin"];
  const open: string[] = [];
  const user = () => ({ key: saas.sk, headers: { "X-User-Id": `u${Math.floor(random() * 8)}` } });
  const ops = [
    () =>
      call("add tier", "POST", `/v1/projects/${saas.pk}/tiers`, {
        ...dat,
        body: { name: pick(tierNames), price: pick([500, 1500]), limit: pick([10, 100, null]) },
      }),
    () =>
      call("edit tier", "PATCH", `/v1/projects/${saas.pk}/tiers/${pick(tierNames)}`, {
        ...dat,
        body: pick<Record<string, unknown>>([
          { price: pick([700, 1900]) },
          { limit: pick([5, 500]) },
          { archived: pick([true, false]) },
        ]),
      }),
    () => call("delete tier", "DELETE", `/v1/projects/${saas.pk}/tiers/${pick(tierNames)}`, dat),
    () => call("rename", "PATCH", `/v1/projects/${saas.pk}`, { ...dat, body: { name: "Renamed" } }),
    () =>
      call("code", "POST", `/v1/projects/${saas.pk}/coupons`, {
        ...dat,
        body: { code: pick(["A10", "B20"]), percentOff: 10, duration: "once", maxRedemptions: 3 },
      }),
    () => call("track", "POST", "/api/data", user()),
    () => call("usage", "GET", "/api/usage", user()),
    async () => {
      const co = await call("checkout", "POST", "/api/create-checkout", {
        ...user(),
        body: { tier: pick(tierNames), ...URLS },
      });
      if (co.status === 200 && !co.body.switched) {
        await call("pay", "POST", `${new URL(co.body.url).pathname}/complete`, { body: {} });
      }
    },
    () =>
      call("add product", "POST", `/v1/projects/${shop.pk}/tiers`, {
        ...dat,
        body: { name: pick(productNames), price: 900, inventory: pick([0, 3, null]) },
      }),
    () =>
      call("edit product", "PATCH", `/v1/projects/${shop.pk}/tiers/${pick(productNames)}`, {
        ...dat,
        body: pick<Record<string, unknown>>([{ inventory: pick([0, 2, 15]) }, { archived: false }]),
      }),
    () =>
      call("delete product", "DELETE", `/v1/projects/${shop.pk}/tiers/${pick(productNames)}`, dat),
    async () => {
      const products = (await call("products", "GET", "/api/products", { key: shop.pk })).body
        .products as { id: string }[];
      if (!products?.length) return;
      const r = await call("cart", "POST", "/api/cart/checkout", {
        key: shop.pk,
        headers: { "X-Forwarded-For": `10.2.0.${Math.floor(random() * 250)}` },
        body: {
          items: [{ productId: pick(products).id, quantity: 1 + Math.floor(random() * 2) }],
          ...URLS,
        },
      });
      if (r.status === 200) open.push(r.body.url);
    },
    async () => {
      const url = open.splice(Math.floor(random() * open.length), 1)[0];
      if (url) {
        await call("finish", "POST", `${new URL(url).pathname}/${pick(["complete", "cancel"])}`, {
          body: {},
        });
      }
    },
    async () => {
      const orders = (await call("orders", "GET", `/v1/projects/${shop.pk}/orders`, dat)).body
        .orders as { id: string }[];
      if (orders?.length) {
        await call("refund", "POST", `/v1/projects/${shop.pk}/orders/${pick(orders).id}/refund`, {
          ...dat,
          body: { restock: random() < 0.5 },
        });
      }
    },
  ];
  for (let step = 0; step < 30; step++) {
    await Promise.all(Array.from({ length: 8 }, () => pick(ops)()));
  }
  for (const url of open) {
    await call("finish", "POST", `${new URL(url).pathname}/cancel`, { body: {} });
  }
  const summary = JSON.stringify(Object.fromEntries(seen));
  assert.deepEqual(failures, [], summary);
  assert.deepEqual(app.logs.lines.filter((l) => l.level === "error"), []);

  const tiers = new Map<string, { name: string; limit: number | null }>(
    (await call("tiers", "GET", `/v1/projects/${saas.pk}/tiers`, dat)).body.tiers.map(
      (t: { name: string }) => [t.name, t],
    ),
  );
  const customers = (await call("customers", "GET", `/v1/projects/${saas.pk}/customers`, dat))
    .body.customers as {
      id: string;
      plan: string;
      usage: { limit: number | null };
      subscription: { status: string; tier: string } | null;
    }[];
  let paying = 0;
  for (const c of customers) {
    const tier = tiers.get(c.plan);
    assert.ok(tier, `${c.id} is on "${c.plan}", not a tier of the project (${summary})`);
    assert.equal(c.usage.limit, tier.limit, `${c.id}'s limit is its tier's`);
    if (c.subscription && ["active", "trialing", "past_due"].includes(c.subscription.status)) {
      paying++;
      assert.equal(c.plan, c.subscription.tier, `${c.id}'s plan is its subscription's tier`);
    }
  }
  const dash = (await call("dashboard", "GET", `/v1/projects/${saas.pk}/dashboard`, dat)).body;
  assert.equal(dash.activeSubscriptions + dash.trialing, paying);
  const products = (await call("products", "GET", `/v1/projects/${shop.pk}/tiers`, dat)).body
    .tiers as { name: string; inventory: number | null }[];
  for (const p of products) assert.ok((p.inventory ?? 0) >= 0, `${p.name}: ${p.inventory}`);
  assert.ok((seen.get("pay 200") ?? 0) > 0 && (seen.get("delete tier 200") ?? 0) > 0, summary);
});
