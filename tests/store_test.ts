/** [e2e] Store projects: images, products, cart checkout, stock that never oversells, metrics. */
import assert from "node:assert/strict";
import {
  developer,
  faultyKv,
  ORIGIN,
  project,
  servePort,
  setsIn,
  type TestApp,
  testApp,
} from "@/tests/helpers.ts";
import { GIF, HTML, PNG, SVG } from "@/tests/fixtures_images.ts";
import Stripe from "stripe";
import { signPayload } from "@/lib/payments/signature.ts";
import { testConfig } from "@/lib/config.ts";
import { sweepReservations } from "@/lib/store/sweep.ts";

function upload(
  app: TestApp,
  auth: Record<string, string>,
  bytes: Uint8Array,
  name = "x.png",
  type = "image/png",
) {
  const form = new FormData();
  form.append("file", new File([bytes as BlobPart], name, { type }));
  return app.fetch(
    new Request(`${ORIGIN}/v1/assets`, { method: "POST", headers: auth, body: form }),
  );
}

const cart = (items: unknown[], extra = {}) => ({
  items,
  successUrl: "https://shop.example/thanks",
  cancelUrl: "https://shop.example/cart",
  ...extra,
});

Deno.test("[e2e] store journey: image → product → cart → pay → stock and metrics; expire → stock back", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const auth = { Authorization: `Bearer ${dev.dat}` };
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [
      { name: "mug", price: 1200, inventory: 8, description: "A mug" },
      { name: "poster", price: 2500, inventory: 2 },
      { name: "ebook", price: 900, inventory: null },
    ],
  });
  let imageUrl = "";

  await t.step(
    "POST /v1/assets stores a PNG and answers its URL; the URL serves the bytes",
    async () => {
      const res = await upload(app, auth, PNG);
      const body = await res.json();
      assert.equal(res.status, 201, JSON.stringify(body));
      assert.match(
        body.url,
        new RegExp(`^${ORIGIN}/api/assets/${dev.platformId}/[0-9A-Za-z]{24}\\.png$`),
      );
      imageUrl = body.url;
      const img = await app.fetch(new Request(imageUrl));
      assert.equal(img.status, 200);
      assert.equal(img.headers.get("content-type"), "image/png");
      assert.equal(img.headers.get("x-content-type-options"), "nosniff");
      assert.match(img.headers.get("cache-control")!, /max-age=31536000/);
      const etag = img.headers.get("etag")!;
      assert.deepEqual(new Uint8Array(await img.arrayBuffer()), PNG);
      const again = await app.fetch(new Request(imageUrl, { headers: { "If-None-Match": etag } }));
      assert.equal(again.status, 304);
      await again.body?.cancel();
      const gif = await upload(app, auth, GIF, "anything.bin", "application/octet-stream");
      assert.equal(gif.status, 201);
      assert.match((await gif.json()).url, /\.gif$/, "the type comes from the bytes, not the name");
    },
  );

  await t.step("bad uploads are clear 4xx and store nothing", async () => {
    for (
      const [bytes, name] of [[SVG, "x.svg"], [HTML, "x.png"], [new Uint8Array(), "x.png"]] as const
    ) {
      const res = await upload(app, auth, bytes, name);
      const body = await res.json();
      assert.equal(res.status, 422, name);
      assert.equal(body.error.code, "validation_failed");
    }
    const big = new Uint8Array(5 * 1024 * 1024 + 1);
    big.set(PNG);
    const res = await upload(app, auth, big);
    assert.equal(res.status, 413);
    assert.equal((await res.json()).error.code, "payload_too_large");
    const notMultipart = await app.call("POST", "/v1/assets", {
      key: dev.dat,
      body: { file: "x" },
    });
    assert.equal(notMultipart.status, 400);
    // a form without a `file` (or with `file` as text), a multipart type without a boundary
    const noFile = new FormData();
    noFile.append("file", "just text");
    for (
      const [body, headers, field] of [
        [noFile, {}, "file"],
        ["abc", { "Content-Type": "multipart/form-data" }, "body"],
      ] as const
    ) {
      const res = await app.fetch(
        new Request(`${ORIGIN}/v1/assets`, {
          method: "POST",
          headers: { ...auth, ...headers },
          body,
        }),
      );
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error.details[0].field, field);
    }
    const noAuth = await upload(app, {}, PNG);
    assert.equal(noAuth.status, 401);
    await noAuth.body?.cancel();
    const csrf = await upload(app, { Cookie: dev.cookie, Origin: "https://evil.example" }, PNG);
    assert.equal(csrf.status, 403);
    await csrf.body?.cancel();
    for (
      const p of [
        "/api/assets/../deno.json",
        `/api/assets/${dev.platformId}/..%2f..%2fdeno.json`,
        "/api/assets/plt_x/y.png",
      ]
    ) {
      assert.equal((await app.call("GET", p)).status, 404, p);
    }
  });

  await t.step(
    "the product shows its image, stock and sold-out state on GET /api/products",
    async () => {
      const patch = await app.call("PATCH", `/v1/projects/${pk}/tiers/mug`, {
        key: dev.dat,
        body: { imageUrl },
      });
      assert.equal(patch.status, 200);
      const res = await srv.call("GET", "/api/products", { key: pk });
      assert.equal(res.status, 200);
      const mug = res.body.products.find((p: { name: string }) => p.name === "mug");
      assert.equal(mug.imageUrl, imageUrl);
      assert.equal(mug.inventory, 8);
      assert.equal(mug.soldOut, false);
      assert.match(mug.id, /^prod_/);
      assert.match(mug.priceId, /^price_/);
      assert.equal((await srv.call("GET", "/api/products", { key: sk })).status, 200);
      const saas = await project(app, dev.dat);
      assert.equal((await srv.call("GET", "/api/products", { key: saas.pk })).status, 403);
    },
  );

  const products = async () =>
    Object.fromEntries(
      (await srv.call("GET", "/api/products", { key: pk })).body.products.map((
        p: { name: string },
      ) => [p.name, p]),
    );

  await t.step("bad carts are 4xx and reserve nothing", async () => {
    const p = await products();
    const other = await project(app, dev.dat, {
      type: "store",
      tiers: [{ name: "hat", price: 100, inventory: 5 }],
    });
    const hat = (await srv.call("GET", "/api/products", { key: other.pk })).body.products[0];
    const bad: [unknown, number][] = [
      [cart([{ productId: "prod_nope", quantity: 1 }]), 422],
      [cart([{ productId: hat.id, quantity: 1 }]), 422],
      [cart([{ priceId: hat.priceId, quantity: 1 }]), 422],
      [cart([{ productId: p.mug.id, quantity: 0 }]), 422],
      [cart([{ productId: p.mug.id, quantity: -2 }]), 422],
      [cart([{ productId: p.mug.id, quantity: 1.5 }]), 422],
      [cart([{ productId: p.mug.id, priceId: p.mug.priceId, quantity: 1 }]), 422],
      [cart([]), 422],
      [cart([{ productId: p.mug.id, quantity: 1 }], { successUrl: "ftp://x" }), 422],
      [cart([{ productId: p.mug.id, quantity: 9 }]), 409],
      [cart([{ productId: p.mug.id, quantity: 5 }, { productId: p.mug.id, quantity: 4 }]), 409],
      [cart([{ productId: p.mug.id, quantity: 1 }, { productId: p.poster.id, quantity: 3 }]), 409],
    ];
    for (const [body, status] of bad) {
      const res = await srv.call("POST", "/api/cart/checkout", { key: pk, body });
      assert.equal(res.status, status, JSON.stringify(body) + " → " + res.text);
    }
    const after = await products();
    assert.equal(after.mug.inventory, 8);
    assert.equal(after.poster.inventory, 2);
  });

  let paid = "";
  await t.step("a guest cart reserves stock at once; paying turns it into a sale", async () => {
    const p = await products();
    const res = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: cart([{ productId: p.mug.id, quantity: 3 }, { priceId: p.ebook.priceId, quantity: 2 }]),
    });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.body.url.startsWith(srv.base + "/sandbox/checkout/"));
    paid = new URL(res.body.url).pathname;
    assert.equal((await products()).mug.inventory, 5, "reserved");
    const page = await (await fetch(res.body.url)).text();
    assert.match(page, /\$54\.00/);
    const done = await srv.call("POST", paid + "/complete", {
      body: { email: "guest@example.com" },
    });
    assert.equal(done.status, 200);
    const after = await products();
    assert.equal(after.mug.inventory, 5);
    assert.equal(after.ebook.inventory, null);
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.deepEqual(dash.body, {
      type: "store",
      sales: 1,
      revenue: 5400,
      inStock: 7,
      lowStock: 2,
      soldOut: 0,
      currency: "usd",
    });
    const viaDev = await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat });
    assert.deepEqual(viaDev.body, dash.body);
    const events = await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat });
    assert.equal(events.body.events[0].type, "checkout.session.completed");
  });

  await t.step("a duplicate checkout.session.completed counts nothing twice", async () => {
    const sb = app.services.sandbox!;
    const session = await sb.retrieveCheckoutSession(
      { accountId: null, mode: "test" },
      paid.split("/").pop()!,
    );
    const me = await srv.call("GET", "/v1/me", { key: dev.dat });
    const ev = {
      id: "evt_dup_store",
      object: "event",
      type: "checkout.session.completed",
      created: Math.floor(app.clock.now() / 1000),
      account: me.body.developer.paymentConnection.test.accountId,
      livemode: false,
      data: { object: session },
    };
    const payload = JSON.stringify(ev);
    const sig = await signPayload(new Stripe("sk_test_x"), {
      payload,
      secret: `whsec_sandbox_${testConfig().appSecret}`,
      timestamp: Math.floor(app.clock.now() / 1000),
    });
    for (let i = 0; i < 2; i++) {
      const r = await srv.call("POST", "/webhook/stripe", {
        raw: payload,
        headers: { "Content-Type": "application/json", "Stripe-Signature": sig },
      });
      assert.equal(r.status, 200);
    }
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.sales, 1);
    assert.equal(dash.body.revenue, 5400);
    assert.equal((await products()).mug.inventory, 5);
  });

  await t.step("abandoning (cancel) and expiring give the stock back", async () => {
    const p = await products();
    const a = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: cart([{ productId: p.poster.id, quantity: 2 }]),
    });
    assert.equal((await products()).poster.soldOut, true, "reserved stock shows as sold out");
    assert.equal(
      (await srv.call("POST", "/api/cart/checkout", {
        key: pk,
        body: cart([{ productId: p.poster.id, quantity: 1 }]),
      })).status,
      409,
    );
    const cancel = await srv.call("POST", new URL(a.body.url).pathname + "/cancel");
    assert.equal(cancel.status, 200);
    assert.equal((await products()).poster.inventory, 2);
    const b = await srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: cart([{ productId: p.poster.id, quantity: 1 }]),
    });
    assert.equal((await products()).poster.inventory, 1);
    await srv.call("POST", new URL(b.body.url).pathname + "/expire");
    assert.equal((await products()).poster.inventory, 2);
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.sales, 1);
  });

  await t.step(
    "holds that outlive their session without an event are released by the sweep",
    async () => {
      const p = await products();
      await srv.call("POST", "/api/cart/checkout", {
        key: pk,
        body: cart([{ productId: p.mug.id, quantity: 4 }]),
      });
      assert.equal((await products()).mug.inventory, 1);
      app.clock.advance(31 * 60_000);
      assert.equal(await sweepReservations(app.services, 0), 1);
      assert.equal((await products()).mug.inventory, 5);
      assert.equal(await sweepReservations(app.services, 0), 0);
    },
  );
});

Deno.test("[e2e] a cart completed with a payment still on its way (bank debit) is held, not sold: sold when it arrives, released when it fails", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }],
  });
  const stock = async () =>
    (await app.call("GET", "/api/products", { key: pk })).body.products[0].inventory;
  const mug = (await app.call("GET", "/api/products", { key: pk })).body.products[0];
  const open = async () =>
    (await app.call("POST", "/api/cart/checkout", {
      key: pk,
      body: cart([{ productId: mug.id, quantity: 2 }]),
    })).body as { url: string; sessionId: string; reservationId: string };
  const debit = await open();
  const failing = await open();
  assert.equal(await stock(), 1);
  // the provider says: completed, not paid yet
  const payments = app.services.payments;
  const retrieve = payments.retrieveCheckoutSession.bind(payments);
  payments.retrieveCheckoutSession = async (acct, id) => ({
    ...(await retrieve(acct, id)),
    status: "complete",
    payment_status: "unpaid",
  });
  app.clock.advance(31 * 60_000);
  assert.equal(await sweepReservations(app.services, 0), 0, "neither sold nor released");
  const metrics = async () =>
    (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  assert.equal((await metrics()).sales, 0, "no sale without the money");
  assert.equal(await stock(), 1, "the stock stays held");
  // the bank's answers arrive as events
  const me = await srv.call("GET", "/v1/me", { key: dev.dat });
  const send = async (type: string, c: { sessionId: string }, paid: boolean) => {
    const session = {
      ...(await retrieve({ accountId: null, mode: "test" }, c.sessionId)),
      status: "complete",
      payment_status: paid ? "paid" : "unpaid",
    };
    const payload = JSON.stringify({
      id: `evt_${type}_${c.sessionId}`,
      object: "event",
      type,
      created: Math.floor(app.clock.now() / 1000),
      account: me.body.developer.paymentConnection.test.accountId,
      livemode: false,
      data: { object: session },
    });
    const sig = await signPayload(new Stripe("sk_test_x"), {
      payload,
      secret: `whsec_sandbox_${testConfig().appSecret}`,
      timestamp: Math.floor(app.clock.now() / 1000),
    });
    const r = await srv.call("POST", "/webhook/stripe", {
      raw: payload,
      headers: { "Content-Type": "application/json", "Stripe-Signature": sig },
    });
    assert.equal(r.status, 200, r.text);
  };
  await send("checkout.session.async_payment_failed", failing, false);
  assert.equal(await stock(), 3, "a failed debit gives its stock back");
  await send("checkout.session.async_payment_succeeded", debit, true);
  assert.equal((await metrics()).sales, 1);
  assert.equal(await stock(), 3);
  // the hold waited for the money: later sweeps leave the settled sale alone
  app.clock.advance(2 * 3600_000);
  await sweepReservations(app.services, 0);
  assert.equal((await metrics()).sales, 1);
  assert.equal(await stock(), 3);
});

Deno.test("[e2e] deleting a product expires the unpaid carts that hold it; their other items' stock comes back", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }, { name: "cup", price: 800, inventory: 5 }],
  });
  const products = async () =>
    Object.fromEntries(
      (await app.call("GET", "/api/products", { key: pk })).body.products.map((
        p: { name: string; id: string; inventory: number },
      ) => [p.name, p]),
    );
  const { mug, cup } = await products();
  const open = async (items: unknown[]) => {
    const co = await app.call("POST", "/api/cart/checkout", { key: pk, body: cart(items) });
    assert.equal(co.status, 200, co.text);
    return new URL(co.body.url).pathname;
  };
  const both = await open([{ productId: mug.id, quantity: 2 }, { productId: cup.id, quantity: 1 }]);
  const cupOnly = await open([{ productId: cup.id, quantity: 2 }]);
  assert.equal((await products()).cup.inventory, 2);
  const del = await app.call("DELETE", `/v1/projects/${pk}/tiers/mug`, { key: dev.dat });
  assert.equal(del.status, 200, del.text);
  assert.equal((await app.call("POST", `${both}/complete`)).status, 409, "expired");
  const after = await products();
  assert.equal(after.mug, undefined);
  assert.equal(after.cup.inventory, 3, "the expired cart's cup is back");
  assert.equal((await app.call("POST", `${cupOnly}/complete`)).status, 200);
  const dash = await app.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat });
  assert.equal(dash.body.sales, 1);
  assert.equal(dash.body.revenue, 1600);
});

Deno.test("[e2e] 200 concurrent one-unit checkouts for 10 in stock: exactly 10 reserved, then sold out", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "drop", price: 5000, inventory: 10 }],
  });
  const productId = (await srv.call("GET", "/api/products", { key: pk })).body.products[0].id;
  const res = await Promise.all(
    Array.from(
      { length: 200 },
      () =>
        srv.call("POST", "/api/cart/checkout", {
          key: pk,
          body: cart([{ productId, quantity: 1 }]),
        }),
    ),
  );
  const ok = res.filter((r) => r.status === 200);
  assert.equal(ok.length, 10);
  assert.equal(res.filter((r) => r.status === 409).length, 190);
  let product = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
  assert.equal(product.inventory, 0);
  assert.equal(product.soldOut, true);
  const done = await Promise.all(
    ok.map((r) => srv.call("POST", new URL(r.body.url).pathname + "/complete")),
  );
  assert.ok(done.every((d) => d.status === 200));
  product = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
  assert.equal(product.inventory, 0);
  assert.equal(product.soldOut, true);
  const dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.sales, 10);
  assert.equal(dash.body.revenue, 50_000);
  assert.equal(dash.body.soldOut, 1);
});

Deno.test("[e2e] two instances on one KV never oversell", async () => {
  await using a = await testApp();
  await using b = await testApp({ kv: a.kv, clock: a.clock });
  const dev = await developer(a);
  const { pk } = await project(a, dev.dat, {
    type: "store",
    tiers: [{ name: "drop", price: 5000, inventory: 7 }],
  });
  const productId = (await a.call("GET", "/api/products", { key: pk })).body.products[0].id;
  const res = await Promise.all(
    Array.from(
      { length: 60 },
      (_, i) =>
        (i % 2 ? a : b).call("POST", "/api/cart/checkout", {
          key: pk,
          body: cart([{ productId, quantity: 1 }]),
        }),
    ),
  );
  assert.equal(res.filter((r) => r.status === 200).length, 7);
  assert.ok(
    res.every((r) => r.status === 200 || r.status === 409),
    res.map((r) => r.status).join(","),
  );
});

Deno.test("[e2e] a cart checkout that fails after its stock was held gives the stock back at once and ends its session", async () => {
  const faults = await faultyKv();
  const links = setsIn("reservations_by_session");
  const releases = setsIn("reservations", (v) => (v as { status?: string }).status === "released");
  const kv = faults.kv;
  await using app = await testApp({ kv });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }],
  });
  const mug = async () => (await app.call("GET", "/api/products", { key: pk })).body.products[0];
  const { id: productId } = await mug();
  // the sessions made, whose URLs only the answers would have given
  const made: string[] = [];
  const payments = app.services.payments;
  const create = payments.createCheckoutSession.bind(payments);
  payments.createCheckoutSession = async (acct, req) => {
    const session = await create(acct, req);
    made.push(new URL(session.url!).pathname);
    return session;
  };
  const checkout = () =>
    app.call("POST", "/api/cart/checkout", { key: pk, body: cart([{ productId, quantity: 2 }]) });

  // every commit that links a session to its hold fails
  faults.failCommits(links, Infinity);
  // the release fails twice, then goes through: the stock is back before the answer
  for (const releaseFailures of [0, 2]) {
    const releaseFault = faults.failCommits(releases, releaseFailures);
    const failed = await checkout();
    assert.equal(failed.status, 500, failed.text);
    assert.equal(failed.body.error.code, "internal_error");
    assert.equal((await mug()).inventory, 5, "the held stock is back at once");
    assert.equal(releaseFault.left, 0);
    assert.equal((await app.call("POST", `${made.at(-1)}/complete`)).status, 409, "session ended");
    assert.equal((await mug()).inventory, 5);
  }
  // a store that keeps failing (three tries here, and the ended session's event) leaves the
  // hold to the sweep, which releases it when it expires
  faults.failCommits(releases, 4);
  assert.equal((await checkout()).status, 500);
  assert.equal((await mug()).inventory, 3);
  assert.ok(app.logs.lines.some((l) => l.msg === "a failed checkout's hold is left to expire"));
  app.clock.advance(31 * 60_000);
  assert.equal(await sweepReservations(app.services, 0), 1);
  assert.equal((await mug()).inventory, 5);

  faults.heal();
  const ok = await checkout();
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await mug()).inventory, 3);
  assert.equal((await app.call("POST", `${new URL(ok.body.url).pathname}/complete`)).status, 200);
  const dash = await app.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat });
  assert.deepEqual([dash.body.sales, dash.body.revenue, dash.body.inStock], [1, 2400, 3]);
});
