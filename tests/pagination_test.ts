/**
 * [e2e] Cursor pagination on every paged list (customers, events, orders, one buyer's orders, the
 * sk's orders, an endpoint's deliveries): pages of any size put together are the whole list in order, each item once, and
 * items added while a client pages through it neither repeat nor hide the ones that were there.
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";

const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

Deno.test("[e2e] paged lists: pages of any size make the whole list once, also while items are added", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const saas = await project(app, dev.dat);
  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 100 }],
  });
  let made = 0;
  const addCustomer = async () => {
    const r = await app.call("POST", "/api/customers", {
      key: saas.sk,
      body: { id: `p${made++}`, email: `p${made}@example.com` },
    });
    assert.equal(r.status, 201, r.text);
  };
  const mug = (await app.call("GET", "/api/products", { key: store.pk })).body.products[0];
  const addOrder = async () => {
    const cart = await app.call("POST", "/api/cart/checkout", {
      key: store.pk,
      body: { items: [{ productId: mug.id, quantity: 1 }], email: "o@example.com", ...URLS },
    });
    assert.equal(cart.status, 200, cart.text);
    await app.call("POST", new URL(cart.body.url).pathname + "/complete", { body: {} });
  };
  let edits = 0;
  const addEvent = async () => {
    const r = await app.call("PATCH", `/v1/projects/${saas.pk}/tiers/pro`, {
      key: dev.dat,
      body: { displayName: `Pro ${edits++}` },
    });
    assert.equal(r.status, 200, r.text);
  };
  const ep = await app.call("POST", `/v1/projects/${saas.pk}/webhooks`, {
    key: dev.dat,
    body: { url: "https://hooks.example/pages" },
  });
  const endpointId = ep.body.endpoint.id as string;
  const addPing = async () => {
    const r = await app.call("POST", `/v1/projects/${saas.pk}/webhooks/${endpointId}/test`, {
      key: dev.dat,
    });
    assert.equal(r.status, 202, r.text);
  };
  for (let i = 0; i < 7; i++) await addPing();
  for (let i = 0; i < 9; i++) await addCustomer();
  for (let i = 0; i < 8; i++) await addEvent();
  for (let i = 0; i < 7; i++) await addOrder();
  app.clock.advance(1000);

  const lists = [
    {
      path: `/v1/projects/${saas.pk}/customers`,
      field: "customers",
      key: dev.dat,
      add: addCustomer,
    },
    { path: `/v1/projects/${saas.pk}/events`, field: "events", key: dev.dat, add: addEvent },
    {
      path: `/v1/projects/${saas.pk}/events?type=tier.updated`,
      field: "events",
      key: dev.dat,
      add: addEvent,
    },
    { path: `/v1/projects/${store.pk}/orders`, field: "orders", key: dev.dat, add: addOrder },
    { path: "/api/orders", field: "orders", key: store.sk, add: addOrder },
    {
      path: `/v1/projects/${saas.pk}/webhooks/${endpointId}/deliveries`,
      field: "deliveries",
      key: dev.dat,
      add: addPing,
    },
    // one buyer's orders (it used to stop at its first page, with no cursor)
    {
      path: `/v1/projects/${store.pk}/orders?email=o@example.com`,
      field: "orders",
      key: dev.dat,
      add: addOrder,
    },
  ];
  for (const list of lists) {
    const page = async (limit: number, cursor: string | null) => {
      const q = `${list.path.includes("?") ? "&" : "?"}limit=${limit}${
        cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""
      }`;
      const r = await app.call("GET", list.path + q, { key: list.key });
      assert.equal(r.status, 200, `${list.path}${q}: ${r.text}`);
      return r.body as { nextCursor: string | null } & Record<string, { id: string }[]>;
    };
    const whole = async (limit: number, during?: () => Promise<void>) => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const p = await page(limit, cursor);
        ids.push(...p[list.field]!.map((x) => x.id));
        cursor = p.nextCursor;
        if (during) await during();
      } while (cursor);
      return ids;
    };
    const all = (await page(100, null))[list.field]!.map((x) => x.id);
    assert.ok(all.length >= 7, `${list.path}: ${all.length} items`);
    for (const limit of [1, 2, 3, all.length, all.length + 1]) {
      assert.deepEqual(await whole(limit), all, `${list.path} in pages of ${limit}`);
    }
    // items added between pages: each original once, in its order, nothing twice
    const seen = await whole(2, list.add);
    assert.equal(new Set(seen).size, seen.length, `${list.path}: an item came twice`);
    assert.deepEqual(seen.filter((id) => all.includes(id)), all, `${list.path}: one was hidden`);
  }
});
