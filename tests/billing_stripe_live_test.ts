/** [e2e] a promoted (live) project against the Stripe double's live key, with the real SDK. */
import assert from "node:assert/strict";
import {
  createCheckout,
  developer,
  project,
  servePort,
  testApp,
  TestClock,
} from "@/tests/helpers.ts";
import {
  connectToDouble,
  deliverEvents,
  liveScope,
  stripeConfigFor,
  StripeDouble,
} from "@/tests/stripe_double.ts";

Deno.test("[e2e] live mode: promote, checkout, payment events, cancel — all on the live account", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double, { live: true }) });
  await using srv = servePort(app);
  const dev = await developer(app);
  const testAccount = await connectToDouble(srv, dev.dat, double, "test");
  const { pk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 2 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const promoted = await srv.call("POST", `/v1/projects/${pk}/promote`, {
    key: dev.dat,
    body: {},
  });
  assert.equal(promoted.status, 201, promoted.text);
  assert.match(promoted.body.publishableKey, /^pk_live_/);
  const sk: string = promoted.body.secretKey;
  const h = { "X-User-Id": "lee" };
  const checkout = () => createCheckout(srv, { sk, user: "lee" });
  const early = await checkout();
  assert.equal(early.status, 409, "live mode asks to connect a live account first");
  assert.match(early.body.error.message, /live mode/);

  const liveAccount = await connectToDouble(srv, dev.dat, double, "live");
  const scope = liveScope(liveAccount);
  const liveProducts = double.all(scope, "prod_");
  assert.ok(liveProducts.length >= 1, "the live catalog is made on the live account");
  const res = await checkout();
  assert.equal(res.status, 200, res.text);
  assert.ok(double.find(scope, res.body.sessionId), "the session is on the live account");
  assert.equal(double.find(testAccount, res.body.sessionId), undefined);

  const events = double.pay(scope, res.body.sessionId);
  assert.ok(events.every((e) => e.livemode === true && e.account === liveAccount));
  assert.deepEqual(await deliverEvents(srv, double, events), ["applied", "applied", "applied"]);
  const c = await srv.call("GET", "/api/customers/lee", { key: sk });
  assert.equal(c.body.customer.plan, "pro");
  assert.equal(c.body.customer.usage.limit, 100);

  const cancel = await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h });
  assert.equal(cancel.status, 200, cancel.text);
  const subId = cancel.body.subscription.id;
  assert.equal(double.find(scope, subId)!.cancel_at_period_end, true);
  clock.advance(1000);
  assert.deepEqual(await deliverEvents(srv, double, [double.subscriptionEvent(scope, subId)]), [
    "applied",
  ]);
  const dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.deepEqual([dash.body.activeSubscriptions, dash.body.canceling], [1, 1]);
  // an event of the test account about that id changes nothing in the live project
  const forged = {
    ...double.subscriptionEvent(scope, subId),
    livemode: false,
    account: testAccount,
  };
  assert.deepEqual(await deliverEvents(srv, double, [{ ...forged, id: "evt_test_twin" }]), [
    "ignored",
  ]);
  assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.canceling, 1);
});
