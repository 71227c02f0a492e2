/**
 * [e2e] Which changes become outbound events (written with the change), the rotation overlap,
 * the back-off's end and an endpoint disabled after failing for 3 days, redirects not followed.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import {
  countingKv,
  developer,
  faultyKv,
  project,
  servePort,
  setsIn,
  testApp,
  TestClock,
} from "@/tests/helpers.ts";
import { BACKOFF_MS, runWebhooks } from "@/lib/outbound/deliver.ts";
import { webhookReceiver as receiver } from "@/tests/webhook_receiver.ts";

const config = { webhookAllowPrivate: true };
const clock = () => new TestClock(new Date().toISOString());

Deno.test("[e2e] SaaS events: customer, subscription created/updated/canceled, usage.limit_reached once per period", async () => {
  await using app = await testApp({ clock: clock(), config });
  await using srv = servePort(app);
  await using rx = receiver();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 2 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const made = await srv.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: rx.url },
  });
  const h = { "X-User-Id": "kim" };
  for (let i = 0; i < 5; i++) await srv.call("POST", "/api/data", { key: sk, headers: h });
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: h,
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  await srv.call("POST", `${new URL(co.body.url).pathname}/complete`, { body: {} });
  await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h, body: {} });
  await srv.call("POST", `/v1/projects/${pk}/customers/kim/subscription/cancel`, {
    key: dev.dat,
    body: {},
  });
  await srv.call("DELETE", "/api/customers/kim", { key: sk });
  for (let i = 0; i < 5; i++) await runWebhooks(app.services);
  const types = rx.types();
  assert.deepEqual(types.filter((t) => t === "usage.limit_reached").length, 1, types.join());
  for (
    const t of [
      "customer.created",
      "subscription.created",
      "subscription.updated",
      "subscription.canceled",
      "customer.deleted",
    ]
  ) assert.ok(types.includes(t), `${t} in ${types.join()}`);
  // one event per change: the provider's echoes of a change made here send none again
  assert.deepEqual(
    types.filter((t) => t.startsWith("subscription.")),
    ["subscription.created", "subscription.updated", "subscription.canceled"],
  );
  const wh = new Webhook(made.body.secret);
  const versions = rx.got.map((g) => wh.verify(g.body, g.headers) as { data: { version: number } })
    .map((p) => p.data.version);
  assert.ok(versions.every((v) => typeof v === "number" && v > 0));
  const limit = rx.got.find((g) => g.body.includes("usage.limit_reached"))!;
  const data = (JSON.parse(limit.body) as { data: { object: { count: number; limit: number } } })
    .data.object;
  assert.deepEqual([data.count, data.limit], [2, 2]);
});

Deno.test("[e2e] Store events: order.paid, product.sold_out (the last unit), order.refunded", async () => {
  await using app = await testApp({ clock: clock(), config });
  await using srv = servePort(app);
  await using rx = receiver();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 1 }],
  });
  await srv.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: rx.url, events: ["order.paid", "order.refunded", "product.sold_out"] },
  });
  const products = (await srv.call("GET", "/api/products", { key: pk })).body.products;
  const cart = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: {
      items: [{ priceId: products[0].priceId, quantity: 1 }],
      email: "buyer@example.com",
      successUrl: "https://shop.example/ok",
      cancelUrl: "https://shop.example/no",
    },
  });
  assert.equal(cart.status, 200, cart.text);
  await srv.call("POST", `${new URL(cart.body.url).pathname}/complete`, { body: {} });
  const refund = await srv.call(
    "POST",
    `/v1/projects/${pk}/orders/${cart.body.reservationId}/refund`,
    {
      key: dev.dat,
      body: { restock: true },
    },
  );
  assert.equal(refund.status, 200, refund.text);
  for (let i = 0; i < 4; i++) await runWebhooks(app.services);
  // one refund, one event: the provider's echo of it and the restock write no second one
  assert.deepEqual(rx.types(), ["product.sold_out", "order.paid", "order.refunded"]);
  assert.equal((await srv.call("GET", "/api/products", { key: pk })).body.products[0].inventory, 1);
  const paid = JSON.parse(rx.got[1]!.body).data.object;
  assert.equal(paid.email, "buyer@example.com");
});

Deno.test("[e2e] rotation: both secrets sign for 24 h, then only the new one", async () => {
  await using app = await testApp({ clock: clock(), config });
  await using rx = receiver();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const made = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: rx.url },
  });
  const id = made.body.endpoint.id;
  const rot = await app.call("POST", `/v1/projects/${pk}/webhooks/${id}/rotate`, { key: dev.dat });
  assert.equal(rot.status, 200, rot.text);
  await app.call("POST", `/v1/projects/${pk}/webhooks/${id}/test`, { key: dev.dat });
  await runWebhooks(app.services);
  const during = rx.got[0]!;
  assert.equal(during.headers["webhook-signature"]!.split(" ").length, 2);
  new Webhook(made.body.secret).verify(during.body, during.headers);
  new Webhook(rot.body.secret).verify(during.body, during.headers);
  app.clock.advance(25 * 3600_000);
  await app.call("POST", `/v1/projects/${pk}/webhooks/${id}/test`, { key: dev.dat });
  await runWebhooks(app.services);
  const after = rx.got[1]!;
  assert.equal(after.headers["webhook-signature"]!.split(" ").length, 1);
  assert.throws(() => new Webhook(made.body.secret).verify(after.body, after.headers));
  assert.throws(() =>
    new Webhook(made.body.secret).verify(after.body, {
      ...after.headers,
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
    })
  );
});

Deno.test("[e2e] a receiver that keeps failing: back-off, failed after 3 days, endpoint disabled; redirects are not followed", async () => {
  await using app = await testApp({ clock: clock(), config });
  await using rx = receiver({
    answer: () =>
      new Response("moved", { status: 302, headers: { Location: "http://169.254.169.254/" } }),
  });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const id = (await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: rx.url },
  })).body.endpoint.id;
  await app.call("POST", `/v1/projects/${pk}/webhooks/${id}/test`, { key: dev.dat });
  for (let i = 0; i < 30; i++) {
    await runWebhooks(app.services);
    app.clock.advance(BACKOFF_MS.at(-1)!);
  }
  const log = await app.call("GET", `/v1/projects/${pk}/webhooks/${id}/deliveries`, {
    key: dev.dat,
  });
  const d = log.body.deliveries[0];
  assert.equal(d.state, "failed");
  assert.match(d.attempts[0].error, /redirect to http:\/\/169\.254\.169\.254\/ not followed/);
  assert.equal(
    rx.got.length,
    d.attempts.length,
    "only our requests: the redirect was not followed",
  );
  assert.ok(d.attempts.length >= 8 && d.attempts.length <= 12, `${d.attempts.length} attempts`);
  const gaps = d.attempts.slice(1).map((a: { at: string }, i: number) =>
    Date.parse(a.at) - Date.parse(d.attempts[i].at)
  );
  assert.ok(gaps.every((g: number) => g >= BACKOFF_MS[0]!));
  const ep = (await app.call("GET", `/v1/projects/${pk}/webhooks`, { key: dev.dat })).body
    .endpoints[0];
  assert.equal(ep.disabled, true);
  assert.ok(ep.failingSince);
  // re-enabled by the developer
  const on = await app.call("POST", `/v1/projects/${pk}/webhooks/${id}/enable`, { key: dev.dat });
  assert.equal(on.body.endpoint.disabled, false);
});

Deno.test("[e2e] refusals after the first usage.limit_reached read nothing from the store", async () => {
  const real = await Deno.openKv(":memory:");
  const { kv, reads } = countingKv(real);
  await using app = await testApp({ kv, clock: clock(), config });
  await using rx = receiver();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 1 }] });
  await app.call("POST", `/v1/projects/${pk}/webhooks`, { key: dev.dat, body: { url: rx.url } });
  const h = { "X-User-Id": "lee" };
  for (let i = 0; i < 3; i++) await app.call("POST", "/api/data", { key: sk, headers: h });
  reads.n = 0;
  for (let i = 0; i < 50; i++) {
    assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 429);
  }
  assert.equal(reads.n, 0, `${reads.n} KV reads for 50 refusals`);
  await runWebhooks(app.services);
  assert.deepEqual(rx.types().filter((t) => t === "usage.limit_reached"), ["usage.limit_reached"]);
  real.close();
});

Deno.test("[e2e] a usage.limit_reached the store fails to record leaves the refusal a 429, and the next refusal records it", async () => {
  const faults = await faultyKv();
  await using app = await testApp({ kv: faults.kv, clock: clock(), config });
  await using rx = receiver();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 1 }] });
  await app.call("POST", `/v1/projects/${pk}/webhooks`, { key: dev.dat, body: { url: rx.url } });
  const h = { "X-User-Id": "lee" };
  assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 200);
  const claim = faults.failCommits(setsIn("webhook_limit_reached"));
  const first = await app.call("POST", "/api/data", { key: sk, headers: h });
  assert.deepEqual([first.status, first.body.error.code], [429, "tier_limit_reached"]);
  assert.equal(claim.left, 0, "its event's record failed");
  assert.ok(app.logs.lines.some((l) => l.msg.startsWith("usage.limit_reached not recorded")));
  for (let i = 0; i < 3; i++) {
    assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 429);
  }
  await runWebhooks(app.services);
  assert.deepEqual(rx.types().filter((t) => t === "usage.limit_reached"), ["usage.limit_reached"]);
});
