/** [e2e] Store orders: a paid cart becomes an order with its buyer and lines, listed and shown. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";

const urls = { successUrl: "https://shop.example/thanks", cancelUrl: "https://shop.example/cart" };

Deno.test("[e2e] orders: paid carts listed newest first with buyer, items and totals; scoped and paged", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [
      { name: "mug", price: 1200, inventory: 20 },
      { name: "ebook", price: 900, inventory: null },
    ],
  });
  const products = Object.fromEntries(
    (await srv.call("GET", "/api/products", { key: pk })).body.products.map((
      p: { name: string },
    ) => [p.name, p]),
  );
  const buy = async (body: Record<string, unknown>, complete: Record<string, unknown> = {}) => {
    const res = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: { ...urls, ...body },
    });
    assert.equal(res.status, 200, res.text);
    const done = await srv.call("POST", new URL(res.body.url).pathname + "/complete", {
      body: complete,
    });
    assert.equal(done.status, 200, done.text);
    return res.body.reservationId as string;
  };

  let first = "";
  await t.step("a paid cart is an order: buyer email and name, lines, total, status", async () => {
    assert.deepEqual((await srv.call("GET", `/v1/projects/${pk}/orders`, { key: dev.dat })).body, {
      orders: [],
      nextCursor: null,
    });
    first = await buy({
      email: "ada@example.com",
      name: "Ada Lovelace",
      items: [
        { productId: products.mug.id, quantity: 3 },
        { priceId: products.ebook.priceId, quantity: 1 },
      ],
    });
    const res = await srv.call("GET", `/v1/projects/${pk}/orders/${first}`, { key: dev.dat });
    assert.equal(res.status, 200, res.text);
    const o = res.body.order;
    assert.equal(o.id, first);
    assert.equal(o.status, "paid");
    assert.equal(o.email, "ada@example.com");
    assert.equal(o.name, "Ada Lovelace");
    assert.equal(o.amountTotal, 3 * 1200 + 900);
    assert.equal(o.amountRefunded, 0);
    assert.equal(o.currency, "usd");
    assert.deepEqual(
      o.items.map((i: Record<string, unknown>) => [i.productId, i.name, i.quantity, i.unitAmount]),
      [[products.mug.id, "mug", 3, 1200], [products.ebook.id, "ebook", 1, 900]],
    );
  });

  await t.step("the email given on the checkout page is kept when the cart had none", async () => {
    const id = await buy(
      { items: [{ productId: products.ebook.id, quantity: 2 }] },
      { email: "guest@example.com" },
    );
    const o = (await srv.call("GET", `/v1/projects/${pk}/orders/${id}`, { key: dev.dat })).body
      .order;
    assert.equal(o.email, "guest@example.com");
    assert.equal(o.name, null);
  });

  await t.step("an abandoned cart is no order; a repeated completion makes one order", async () => {
    const res = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: { ...urls, items: [{ productId: products.mug.id, quantity: 1 }] },
    });
    await srv.call("POST", new URL(res.body.url).pathname + "/cancel");
    const again = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: { ...urls, items: [{ productId: products.ebook.id, quantity: 1 }] },
    });
    const path = new URL(again.body.url).pathname;
    await srv.call("POST", path + "/complete", { body: {} });
    await srv.call("POST", path + "/complete", { body: {} });
    const list = await srv.call("GET", "/api/orders", { key: sk });
    assert.equal(list.status, 200, list.text);
    assert.equal(list.body.orders.length, 3);
    assert.equal(list.body.orders[2].id, first, "newest first");
    assert.equal(list.body.orders[0].id, again.body.reservationId);
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.sales, 3);
  });

  await t.step("pages of orders with a cursor; a bad cursor is 400", async () => {
    for (let i = 0; i < 3; i++) {
      await buy({ items: [{ productId: products.ebook.id, quantity: 1 }] });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `&cursor=${cursor}` : "";
      const page = await srv.call("GET", `/v1/projects/${pk}/orders?limit=2${q}`, {
        key: dev.dat,
      });
      assert.equal(page.status, 200, page.text);
      seen.push(...page.body.orders.map((o: { id: string }) => o.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.equal(seen.length, 6);
    assert.equal(new Set(seen).size, 6);
    assert.deepEqual(seen, [...seen].sort().reverse());
    const bad = await srv.call("GET", `/v1/projects/${pk}/orders?cursor=zz!!`, { key: dev.dat });
    assert.equal(bad.status, 400);
  });

  await t.step("scoped: another developer gets 403, pk and SaaS projects are refused", async () => {
    const other = await developer(app);
    assert.equal(
      (await srv.call("GET", `/v1/projects/${pk}/orders`, { key: other.dat })).status,
      403,
    );
    assert.equal(
      (await srv.call("GET", `/v1/projects/${pk}/orders/${first}`, { key: other.dat })).status,
      403,
    );
    assert.equal((await srv.call("GET", "/api/orders", { key: pk })).status, 403);
    const saas = await project(app, dev.dat, {});
    assert.equal((await srv.call("GET", "/api/orders", { key: saas.sk })).status, 403);
    const unknown = await srv.call("GET", `/v1/projects/${pk}/orders/res_nope`, { key: dev.dat });
    assert.equal(unknown.status, 404);
    assert.equal(
      (await srv.call("GET", `/v1/projects/${pk}/orders/${"x".repeat(5000)}`, { key: dev.dat }))
        .status < 500,
      true,
    );
  });

  await t.step("dashboard: Orders list and detail pages", async () => {
    const h = { Cookie: dev.cookie, Accept: "text/html" };
    const list = await app.call("GET", `/dashboard/projects/${pk}/orders`, { headers: h });
    assert.equal(list.status, 200);
    assert.match(list.text, /Ada Lovelace · ada@example\.com/);
    assert.match(list.text, /\$45\.00/);
    const detail = await app.call("GET", `/dashboard/projects/${pk}/orders/${first}`, {
      headers: h,
    });
    assert.equal(detail.status, 200);
    assert.match(detail.text, /Ada Lovelace/);
    assert.match(detail.text, /\$36\.00/, "3 × $12.00");
    const saas = await project(app, dev.dat, { name: "S" });
    const nav = await app.call("GET", `/dashboard/projects/${saas.pk}`, { headers: h });
    assert.doesNotMatch(nav.text, /\/orders"/, "SaaS projects have no Orders section");
  });
});
