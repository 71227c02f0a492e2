/** [e2e] A price change keeps subscribers on their price; the developer sees them and moves them. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp, TestClock } from "@/tests/helpers.ts";
import {
  connectToDouble,
  deliverEvents,
  stripeConfigFor,
  StripeDouble,
} from "@/tests/stripe_double.ts";

Deno.test("[e2e] grandfathered prices: counted per price, shown in the tier editor, moved at renewal", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const subscribe = async (user: string) => {
    const co = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": user },
      body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
    });
    assert.equal(co.status, 200, co.text);
    await srv.call("POST", `${new URL(co.body.url).pathname}/complete`, { body: {} });
  };
  const dashboard = async () =>
    (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  await subscribe("a");
  await subscribe("b");
  const change = await srv.call("PATCH", `/v1/projects/${pk}/tiers/pro`, {
    key: dev.dat,
    body: { price: 2500 },
  });
  assert.equal(change.status, 200, change.text);
  await subscribe("c");
  assert.equal((await dashboard()).mrr, 1900 * 2 + 2500, "the two first keep their price");

  const prices = await srv.call("GET", `/v1/projects/${pk}/tiers/pro/prices`, { key: dev.dat });
  assert.equal(prices.status, 200, prices.text);
  assert.deepEqual(
    [prices.body.current.amount, prices.body.current.subscribers],
    [2500, 1],
  );
  assert.deepEqual(
    prices.body.older.map((
      o: { amount: number; subscribers: number },
    ) => [o.amount, o.subscribers]),
    [[1900, 2]],
  );
  const page = await srv.call("GET", `/dashboard/projects/${pk}/tiers`, {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.match(page.text, /data-testid="older-pro"/);
  assert.match(page.text, /2<!-- --> on <!-- -->\$19\.00|2 on \$19\.00/);

  const moved = await srv.call("POST", `/v1/projects/${pk}/tiers/pro/move-subscribers`, {
    key: dev.dat,
  });
  assert.equal(moved.status, 200, moved.text);
  assert.equal(moved.body.moved, 2);
  const after = await srv.call("GET", `/v1/projects/${pk}/tiers/pro/prices`, { key: dev.dat });
  assert.deepEqual(after.body.older, []);
  assert.equal(after.body.current.subscribers, 3);
  assert.equal((await dashboard()).mrr, 2500 * 3);
  // again: nothing left to move
  const again = await srv.call("POST", `/v1/projects/${pk}/tiers/pro/move-subscribers`, {
    key: dev.dat,
  });
  assert.equal(again.body.moved, 0);
  const events = await srv.call("GET", `/v1/projects/${pk}/events?type=tier.subscribers_moved`, {
    key: dev.dat,
  });
  assert.equal(events.body.events.length, 2);
});

Deno.test("[e2e] Stripe (double): moving grandfathered subscribers changes their price without proration", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double) });
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const account = await connectToDouble(srv, dev.dat, double);
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "max" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  await deliverEvents(srv, double, double.pay(account, co.body.sessionId));
  await srv.call("PATCH", `/v1/projects/${pk}/tiers/pro`, { key: dev.dat, body: { price: 2500 } });
  const moved = await srv.call("POST", `/v1/projects/${pk}/tiers/pro/move-subscribers`, {
    key: dev.dat,
  });
  assert.equal(moved.body.moved, 1, moved.text);
  const subId = (await srv.call("GET", "/api/customers/max", { key: sk })).body.customer
    .subscription.id;
  const sub = double.find(account, subId)! as unknown as Record<string, unknown> & {
    items: { data: { price: { unit_amount: number } }[] };
  };
  assert.equal(sub.items.data[0]!.price.unit_amount, 2500);
  assert.equal(sub.last_proration_behavior, "none");
});
