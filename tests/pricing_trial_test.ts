/** [e2e] Trials through the sandbox: the tier applies during the trial; it converts, or ends. */
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
  stripeConfigFor,
  StripeDouble,
} from "@/tests/stripe_double.ts";

const TIERS = [
  { name: "free", price: 0, limit: 3 },
  { name: "pro", price: 1900, limit: 100, trialDays: 14 },
];
const DAY = 86_400_000;

async function startTrial(card?: string) {
  const app = await testApp();
  const srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const h = { "X-User-Id": "tia" };
  const co = await createCheckout(srv, { sk, user: h["X-User-Id"] });
  assert.equal(co.status, 200, co.text);
  const path = new URL(co.body.url).pathname;
  const page = await srv.call("GET", path, { headers: { Accept: "text/html" } });
  assert.match(page.text, /Free for 14 days: nothing is charged today/);
  assert.match(page.text, /Due today: <strong>\$0\.00<\/strong>/);
  const done = await srv.call("POST", `${path}/complete`, {
    body: { email: "tia@example.com", ...(card ? { card } : {}) },
  });
  assert.equal(done.status, 200, done.text);
  const metrics = async () =>
    (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  const customer = async () =>
    (await srv.call("GET", "/api/customers/tia", { key: sk })).body.customer;
  const close = async () => {
    await srv[Symbol.asyncDispose]();
    await app[Symbol.asyncDispose]();
  };
  return { app, srv, sk, h, metrics, customer, close };
}

Deno.test("[e2e] a trial that converts: trialing with the tier's limit, outside MRR; at its end active and in MRR", async () => {
  const t = await startTrial();
  try {
    const c = await t.customer();
    assert.equal(c.plan, "pro");
    assert.equal(c.subscription.status, "trialing");
    assert.equal(c.usage.limit, 100, "the tier applies during the trial");
    for (let i = 0; i < 5; i++) {
      const r = await t.srv.call("POST", "/api/data", { key: t.sk, headers: t.h });
      assert.equal(r.status, 200, "past the free limit: the trial's tier counts");
    }
    let m = await t.metrics();
    assert.deepEqual(
      { trialing: m.trialing, active: m.activeSubscriptions, mrr: m.mrr },
      { trialing: 1, active: 0, mrr: 0 },
    );
    t.app.clock.advance(15 * DAY);
    assert.ok(await t.app.services.sandbox!.tick() >= 1);
    const after = await t.customer();
    assert.equal(after.subscription.status, "active");
    assert.equal(after.plan, "pro");
    m = await t.metrics();
    assert.deepEqual(
      { trialing: m.trialing, active: m.activeSubscriptions, mrr: m.mrr },
      { trialing: 0, active: 1, mrr: 1900 },
    );
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] a trial whose card fails: at its end the subscription is canceled and the customer is back on free", async () => {
  const t = await startTrial("4000 0000 0000 0341");
  try {
    assert.equal((await t.customer()).subscription.status, "trialing");
    t.app.clock.advance(15 * DAY);
    await t.app.services.sandbox!.tick();
    const after = await t.customer();
    assert.equal(after.subscription.status, "canceled");
    assert.equal(after.plan, "free");
    assert.equal(after.usage.limit, 3);
    const m = await t.metrics();
    assert.deepEqual(
      { trialing: m.trialing, active: m.activeSubscriptions, mrr: m.mrr },
      { trialing: 0, active: 0, mrr: 0 },
    );
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] Stripe (double, real SDK): checkout asks for the trial; the trialing subscription keeps the tier, outside MRR", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double) });
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const account = await connectToDouble(srv, dev.dat, double);
  const res = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "tia" },
    body: {
      tier: "pro",
      successUrl: "https://app.example/ok",
      cancelUrl: "https://app.example/no",
    },
  });
  assert.equal(res.status, 200, res.text);
  const session = double.find(account, res.body.sessionId)!;
  assert.equal(session.amount_total, 1900);
  await deliverEvents(srv, double, double.pay(account, res.body.sessionId));
  const c = (await srv.call("GET", "/api/customers/tia", { key: sk })).body.customer;
  assert.equal(c.subscription.status, "trialing");
  assert.equal(c.plan, "pro");
  const m = (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  assert.deepEqual([m.trialing, m.activeSubscriptions, m.mrr], [1, 0, 0]);
});
