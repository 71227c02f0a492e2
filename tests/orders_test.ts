/** [e2e] Store orders: a paid cart becomes an order with its buyer and lines, listed and shown. */
import assert from "node:assert/strict";
import {
  developer,
  faultyKv,
  project,
  servePort,
  setsIn,
  testApp,
  TestClock,
} from "@/tests/helpers.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { projectByPk } from "@/lib/projects/projects.ts";
import { sweepReservations } from "@/lib/store/sweep.ts";
import {
  connectedProject,
  connectToDouble,
  deliverEvents,
  stripeConfigFor,
  StripeDouble,
} from "@/tests/stripe_double.ts";

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
    assert.match(list.text, />Products</, "a Store says Products, not Tiers");
    const detail = await app.call("GET", `/dashboard/projects/${pk}/orders/${first}`, {
      headers: h,
    });
    assert.equal(detail.status, 200);
    assert.match(detail.text, /Ada Lovelace/);
    assert.match(detail.text, /\$36\.00/, "3 × $12.00");
    // buyers are the Store's customers, each with their orders
    const buyers = await app.call("GET", `/dashboard/projects/${pk}/customers`, { headers: h });
    assert.match(buyers.text, /ada@example\.com/);
    assert.match(buyers.text, /guest@example\.com/);
    assert.match(buyers.text, /Ada Lovelace/);
    assert.match(buyers.text, /\$45\.00/, "what Ada spent");
    const hers = await app.call("GET", `/dashboard/projects/${pk}/orders?email=ada%40example.com`, {
      headers: h,
    });
    assert.match(hers.text, /Orders of <strong>ada@example\.com<\/strong>/);
    assert.equal(
      (hers.text.match(/<a href="\/dashboard\/projects\/[^"]+\/orders\/res_/g) ?? []).length,
      1,
    );
    const viaApi = await app.call("GET", `/v1/projects/${pk}/orders?email=ADA@example.com`, {
      key: dev.dat,
    });
    assert.deepEqual(viaApi.body.orders.map((o: { id: string }) => o.id), [first]);
    const saas = await project(app, dev.dat, { name: "S" });
    const nav = await app.call("GET", `/dashboard/projects/${saas.pk}`, { headers: h });
    assert.doesNotMatch(nav.text, /\/orders"/, "SaaS projects have no Orders section");
  });
});

Deno.test("[e2e] refunds through the sandbox: partial then full, restock once, revenue net, charge.refunded", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 10 }, {
      name: "ebook",
      price: 900,
      inventory: null,
    }],
  });
  const products = Object.fromEntries(
    (await srv.call("GET", "/api/products", { key: pk })).body.products.map((
      p: { name: string },
    ) => [p.name, p]),
  );
  const res = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: {
      ...urls,
      email: "b@example.com",
      items: [{ productId: products.mug.id, quantity: 3 }, {
        productId: products.ebook.id,
        quantity: 1,
      }],
    },
  });
  await srv.call("POST", new URL(res.body.url).pathname + "/complete", { body: {} });
  const id = res.body.reservationId as string;
  const refund = (body: unknown, key = dev.dat) =>
    srv.call("POST", `/v1/projects/${pk}/orders/${id}/refund`, { key, body });
  const stock = async () =>
    (await srv.call("GET", "/api/products", { key: pk })).body.products.find((
      p: { name: string },
    ) => p.name === "mug").inventory;
  const revenue = async () => (await srv.call("GET", "/api/dashboard", { key: sk })).body.revenue;
  assert.equal(await stock(), 7);
  assert.equal(await revenue(), 4500);

  await t.step(
    "bad refunds change nothing: over the total, zero, fractions, unknown fields",
    async () => {
      for (
        const body of [{ amount: 4501 }, { amount: 0 }, { amount: 1.5 }, { amount: -1 }, { x: 1 }]
      ) {
        const r = await refund(body);
        assert.ok(r.status === 422 || r.status === 400, `${JSON.stringify(body)} → ${r.status}`);
      }
      assert.equal(await revenue(), 4500);
      assert.equal((await refund({ amount: 100 }, sk)).status, 401);
    },
  );

  await t.step("a partial refund: partially_refunded, revenue net, stock unchanged", async () => {
    const r = await refund({ amount: 1000 });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.order.status, "partially_refunded");
    assert.equal(r.body.order.amountRefunded, 1000);
    assert.equal(await revenue(), 3500);
    assert.equal(await stock(), 7);
    assert.equal((await refund({ amount: 3501 })).status, 422, "more than is left");
  });

  await t.step(
    "the rest with restock: refunded, stock back once, revenue 0, events logged",
    async () => {
      const r = await refund({ restock: true });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.order.status, "refunded");
      assert.equal(r.body.order.amountRefunded, 4500);
      assert.equal(await stock(), 10);
      assert.equal(await revenue(), 0);
      const again = await refund({ restock: true });
      assert.equal(again.status, 200, "restock of a refunded order is once only: no change");
      assert.equal(await stock(), 10);
      assert.equal((await refund({})).status, 409, "nothing left");
      const events = (await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat })).body
        .events as { type: string; summary: string }[];
      assert.equal(events.filter((e) => e.type === "charge.refunded").length, 2);
      assert.ok(events.some((e) => e.type === "order.refunded" && /by token tok_/.test(e.summary)));
      assert.equal(
        events.filter((e) => e.type === "order.refunded").length,
        2,
        "the partial refund and the rest; the restock asked again changed nothing and logs nothing",
      );
      const listed = await srv.call("GET", "/api/orders", { key: sk });
      assert.equal(listed.body.orders[0].status, "refunded");
    },
  );
});

Deno.test("[e2e] sandbox: a checkout and a refund whose events the webhook route refused at first: applied once, delivered by the clock", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 10 }],
  });
  const mug = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
  // the webhook route refuses deliveries while `down` (as it can: busy, restarting), then takes
  // events again, as the app's own delivery does
  let down = true;
  const refused: string[] = [];
  app.services.sandbox!.attach(async (payload, signature) => {
    if (down) {
      refused.push(JSON.parse(payload).type);
      throw new Error("sandbox event refused: 503");
    }
    const r = await srv.call("POST", "/webhook/stripe", {
      raw: payload,
      headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
    });
    assert.equal(r.status, 200, r.text);
  });
  const res = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: { ...urls, email: "kim@example.com", items: [{ productId: mug.id, quantity: 2 }] },
  });
  assert.equal(res.status, 200, res.text);
  const paid = await srv.call("POST", new URL(res.body.url).pathname + "/complete", { body: {} });
  assert.equal(paid.status, 200, "paid: the payment stands whatever the route did");
  assert.deepEqual(refused, ["checkout.session.completed"]);
  const id = res.body.reservationId as string;
  const order = () => srv.call("GET", `/v1/projects/${pk}/orders/${id}`, { key: dev.dat });
  assert.equal((await order()).status, 404, "not applied yet");
  down = false;
  app.clock.advance(1500);
  await app.services.sandbox!.tick();
  assert.equal((await order()).body.order.amountTotal, 2400, "applied from the kept event");

  down = true;
  const refund = () =>
    srv.call("POST", `/v1/projects/${pk}/orders/${id}/refund`, {
      key: dev.dat,
      body: { amount: 500 },
    });
  const r1 = await refund();
  assert.equal(r1.status, 200, r1.text);
  assert.equal(r1.body.order.amountRefunded, 500);
  down = false;
  app.clock.advance(1500);
  await app.services.sandbox!.tick(); // charge.refunded arrives now: the total it names, not more
  assert.equal((await order()).body.order.amountRefunded, 500, "refunded once, not twice");
  const refunded: number[] = []; // what the sandbox's payment holds as refunded
  for await (const e of app.kv.list<number>({ prefix: ["sandbox", "refunded"] })) {
    refunded.push(e.value);
  }
  assert.deepEqual(refunded, [500]);
  assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.revenue, 1900);
  const kept = [];
  for await (const e of app.kv.list({ prefix: ["sandbox_outbox"] })) kept.push(e.key);
  assert.deepEqual(kept, [], "every kept event delivered");
});

Deno.test("[e2e] an order refunded through Stripe (real SDK against the double), on the connected account", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double) });
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "lamp", price: 5000, inventory: 4 }],
  });
  const account = await connectToDouble(srv, dev.dat, double);
  const lamp = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
  const cart = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: {
      ...urls,
      email: "s@example.com",
      name: "Sam",
      items: [{ priceId: lamp.priceId, quantity: 2 }],
    },
  });
  assert.equal(cart.status, 200, cart.text);
  await deliverEvents(srv, double, double.pay(account, cart.body.sessionId));
  const id = cart.body.reservationId;
  const order = (await srv.call("GET", `/v1/projects/${pk}/orders/${id}`, { key: dev.dat })).body
    .order;
  assert.equal(order.name, "Sam");
  assert.equal(order.amountTotal, 10000);
  const r = await srv.call("POST", `/v1/projects/${pk}/orders/${id}/refund`, {
    key: dev.dat,
    body: { amount: 5000, restock: true },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.order.status, "partially_refunded");
  const calls = double.requests.filter((x) => x.method === "POST" && x.path === "/v1/refunds");
  assert.equal(calls.length, 1);
  assert.equal(calls[0]!.account, account, "on the developer's connected account");
  assert.ok(calls[0]!.idempotencyKey?.startsWith("dream_"));
  const paid = double.find(account, cart.body.sessionId)!;
  assert.equal(paid._refunded, 5000);
  assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.revenue, 5000);
  assert.equal((await srv.call("GET", "/api/products", { key: pk })).body.products[0].inventory, 4);
  // more than is left is refused before any provider call; nothing changes
  const over = await srv.call("POST", `/v1/projects/${pk}/orders/${id}/refund`, {
    key: dev.dat,
    body: { amount: 6000 },
  });
  assert.equal(over.status, 422);
  assert.equal(paid._refunded, 5000);
});

Deno.test("[e2e] Stripe (double): a cart's session is made with a margin inside Stripe's 30 minutes to 24 hours", async () => {
  for (const minutes of [30, 1440]) {
    // Stripe's clock a few seconds ahead of ours, as the request's travel makes it
    await using t = await connectedProject({
      type: "store",
      tiers: [{ name: "mug", price: 1200, inventory: 5 }],
      config: { reservationMinutes: minutes },
      skewMs: 5_000,
    });
    const { srv, pk, clock, double } = t;
    const [mug] = (await srv.call("GET", "/api/products", { key: pk })).body.products;
    const res = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: {
        items: [{ productId: mug.id, quantity: 1 }],
        successUrl: "https://a.example/ok",
        cancelUrl: "https://a.example/no",
      },
    });
    assert.equal(res.status, 200, res.text);
    assert.equal(Date.parse(res.body.expiresAt), clock.now() + minutes * 60_000, "the hold");
    const sent = double.requests.findLast((r) => r.path === "/v1/checkout/sessions")!;
    const life = Number(new URLSearchParams(sent.raw).get("expires_at")) - clock.now() / 1000;
    assert.ok(life >= 31 * 60 && life <= 1435 * 60, `${life} s`);
  }
});

Deno.test("[e2e] a refund made at the provider whose recording fails once is recorded when its event comes again", async () => {
  const faults = await faultyKv();
  await using app = await testApp({ kv: faults.kv });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 10 }],
  });
  const mug = (await app.call("GET", "/api/products", { key: pk })).body.products[0];
  const res = await app.call("POST", "/api/cart/checkout", {
    key: pk,
    body: { ...urls, email: "kim@example.com", items: [{ productId: mug.id, quantity: 2 }] },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal((await app.call("POST", new URL(res.body.url).pathname + "/complete")).status, 200);
  const id = res.body.reservationId as string;
  const order = async () =>
    (await app.call("GET", `/v1/projects/${pk}/orders/${id}`, { key: dev.dat })).body.order;
  assert.equal((await order()).amountTotal, 2400);
  // refunded in the provider's dashboard: only its charge.refunded event tells this server, and
  // its first delivery finds the store failing as it records the refund
  const recording = faults.failCommits(
    setsIn("orders", (v) => (v as { amountRefunded?: number }).amountRefunded === 700),
  );
  const s = app.services;
  const acct = await accountFor(s, (await projectByPk(s, pk))!);
  await s.payments.refundPayment(acct, {
    sessionId: res.body.sessionId,
    amount: 700,
    metadata: { dream_pk: pk, dream_order: id },
    idempotencyKey: "dashboard-refund-1",
  });
  assert.equal(recording.left, 0, "the first delivery's recording failed");
  assert.equal((await order()).amountRefunded, 0);
  // delivered again, as a provider redelivers an event its receiver failed
  app.clock.advance(60_000);
  await s.sandbox!.tick();
  const refunded = await order();
  assert.deepEqual([refunded.amountRefunded, refunded.status], [700, "partially_refunded"]);
  assert.equal((await app.call("GET", "/api/dashboard", { key: sk })).body.revenue, 1700);
  const kept = [];
  for await (const e of app.kv.list({ prefix: ["sandbox_outbox"] })) kept.push(e.key);
  assert.deepEqual(kept, [], "every kept event delivered");
});

Deno.test("[e2e] Stripe (double): a cart paid whose events never came is found paid by the sweep and sold once; the late events change nothing", async () => {
  await using t = await connectedProject({
    type: "store",
    tiers: [{ name: "lamp", price: 5000, inventory: 4 }],
  });
  const { srv, pk, sk, clock, double, account, app, dev } = t;
  const [lamp] = (await srv.call("GET", "/api/products", { key: pk })).body.products;
  const cart = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: { ...urls, email: "late@example.com", items: [{ productId: lamp.id, quantity: 3 }] },
  });
  assert.equal(cart.status, 200, cart.text);
  const events = double.pay(account, cart.body.sessionId); // paid at Stripe; nothing told us
  const id = cart.body.reservationId as string;
  const sold = async () => {
    const d = (await srv.call("GET", "/api/dashboard", { key: sk })).body;
    const stock = (await srv.call("GET", "/api/products", { key: pk })).body.products[0].inventory;
    return { sales: d.sales, revenue: d.revenue, stock };
  };
  assert.deepEqual(await sold(), { sales: 0, revenue: 0, stock: 1 }, "held, not sold");

  clock.advance(31 * 60_000); // past the hold's 30 minutes
  assert.equal(await sweepReservations(app.services, 0), 1);
  assert.deepEqual(await sold(), { sales: 1, revenue: 15000, stock: 1 });
  const order = (await srv.call("GET", `/v1/projects/${pk}/orders/${id}`, { key: dev.dat })).body
    .order;
  assert.equal(order.status, "paid");
  assert.equal(order.amountTotal, 15000);
  assert.equal(order.email, "late@example.com");
  assert.equal(await sweepReservations(app.services, 0), 0, "settled once");

  await deliverEvents(srv, double, events); // the events arrive at last
  assert.deepEqual(await sold(), { sales: 1, revenue: 15000, stock: 1 });
  const orders = (await srv.call("GET", `/v1/projects/${pk}/orders`, { key: dev.dat })).body.orders;
  assert.equal(orders.length, 1);
});

Deno.test("[e2e] one buyer's orders on the Orders page come in pages, the Next link keeping the buyer", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "pin", price: 300, inventory: null }],
  });
  const [pin] = (await app.call("GET", "/api/products", { key: pk })).body.products;
  for (let i = 0; i < 27; i++) {
    const cart = await app.call("POST", "/api/cart/checkout", {
      key: pk,
      headers: { "X-Forwarded-For": `10.9.0.${i}` },
      body: { ...urls, email: "many@example.com", items: [{ productId: pin.id, quantity: 1 }] },
    });
    assert.equal(cart.status, 200, cart.text);
    await app.call("POST", new URL(cart.body.url).pathname + "/complete", { body: {} });
  }
  const page = (path: string) =>
    app.call("GET", path, { headers: { Cookie: dev.cookie, Accept: "text/html" } });
  const first = await page(`/dashboard/projects/${pk}/orders?email=many@example.com`);
  assert.equal(first.status, 200);
  const next = /href="([^"]+)" rel="next"/.exec(first.text)?.[1]?.replaceAll("&amp;", "&");
  assert.ok(next?.includes("email=many%40example.com&cursor="), `next link: ${next}`);
  const second = await page(next!);
  const shown = (html: string) => (html.match(/>res_[0-9A-Z]{26}</g) ?? []).length;
  assert.equal(shown(first.text) + shown(second.text), 27);
  assert.match(second.text, /rel="prev"/);
});
