/** [e2e] the developer's platform plan, priced by the operator, paid through the sandbox. */
import assert from "node:assert/strict";
import { developer, ORIGIN, servePort, testApp, TestClock } from "@/tests/helpers.ts";
import { deliverEvents, liveScope, stripeConfigFor, StripeDouble } from "@/tests/stripe_double.ts";
import { requirePlatformPlan } from "@/lib/billing/platform.ts";
import { getDeveloper } from "@/lib/kv/developers.ts";

Deno.test("[e2e] POST /v1/billing/checkout: off when unpriced; when priced, paying activates the plan", async () => {
  await using off = await testApp();
  const d0 = await developer(off);
  const res0 = await off.call("POST", "/v1/billing/checkout", { key: d0.dat });
  assert.equal(res0.status, 404);

  await using app = await testApp({ config: { platformPriceCents: 1500 } });
  const dev = await developer(app);
  const before = (await getDeveloper(app.kv, dev.platformId))!;
  assert.throws(() => requirePlatformPlan(app.services, before), /platform plan/);
  const res = await app.call("POST", "/v1/billing/checkout", {
    headers: { Cookie: dev.cookie, Origin: ORIGIN },
  });
  assert.equal(res.status, 200, res.text);
  const page = await app.call("GET", new URL(res.body.url).pathname);
  assert.match(page.text, /\$15\.00/);
  const done = await app.call("POST", new URL(res.body.url).pathname + "/complete");
  assert.equal(done.status, 200, done.text);
  const me = await app.call("GET", "/v1/me", { key: dev.dat });
  assert.equal(me.body.developer.planStatus, "active");
  requirePlatformPlan(app.services, (await getDeveloper(app.kv, dev.platformId))!);
  assert.equal((await app.call("POST", "/v1/billing/checkout", { key: dev.dat })).status, 409);
  assert.equal(
    (await app.call("POST", "/v1/billing/checkout", { headers: { Cookie: dev.cookie } })).status,
    403,
    "CSRF",
  );
});

Deno.test("[e2e] only the platform's own account and price can change a platform plan", async () => {
  await using app = await testApp({ config: { platformPriceCents: 1500 } });
  const dev = await developer(app);
  const victim = await developer(app);
  // the victim pays for real
  const pay = await app.call("POST", "/v1/billing/checkout", { key: victim.dat });
  await app.call("POST", new URL(pay.body.url).pathname + "/complete");
  const sandbox = app.services.sandbox!;
  const sub = (devId: string, status: string, price: Record<string, unknown>) => ({
    id: `sub_forged_${status}`,
    object: "subscription",
    customer: "cus_forged",
    status,
    cancel_at_period_end: false,
    created: Math.floor(app.clock.now() / 1000),
    metadata: { dream_platform: devId },
    items: { data: [{ price, quantity: 1 }] },
  });
  const ownPrice = {
    id: "price_dev_own",
    product: "prod_dev_own",
    unit_amount: 1,
    currency: "usd",
    metadata: { dream_platform_price: "1" },
    recurring: { interval: "month" },
  };
  // from the developer's own connected account, with metadata they control
  await sandbox.emit({
    type: "customer.subscription.created",
    object: sub(dev.platformId, "active", ownPrice),
    account: "acct_dev",
  });
  await sandbox.emit({
    type: "customer.subscription.deleted",
    object: sub(victim.platformId, "canceled", ownPrice),
    account: "acct_dev",
  });
  // from the platform's account but on a price that is not the platform's
  await sandbox.emit({
    type: "customer.subscription.updated",
    object: sub(dev.platformId, "active", { ...ownPrice, id: "price_other", metadata: {} }),
    account: null,
  });
  const me = async (d: { dat: string }) =>
    (await app.call("GET", "/v1/me", { key: d.dat })).body.developer.planStatus;
  assert.equal(await me(dev), "none", "no free plan from forged events");
  assert.equal(await me(victim), "active", "nobody can cancel someone else's plan");
});

Deno.test("[e2e] the platform plan's Product and Price are made once, also once their creation records have expired", async () => {
  await using app = await testApp({ config: { platformPriceCents: 1500 } });
  const { providerCallKeys } = await import("@/lib/kv/provider_calls.ts");
  const platformObjects = async () => {
    const found: string[] = [];
    for await (
      const e of app.kv.list<{ metadata?: Record<string, string> }>({ prefix: ["sandbox"] })
    ) {
      const m = e.value?.metadata ?? {};
      if (m.dream_platform_product || m.dream_platform_price) found.push(String(e.key[1]));
    }
    return found.sort();
  };
  for (const email of ["one@example.com", "two@example.com"]) {
    const dev = await developer(app, email);
    const res = await app.call("POST", "/v1/billing/checkout", { key: dev.dat });
    assert.equal(res.status, 200, res.text);
    // the calls' own records last a day (Stripe keeps idempotency keys 24 h): gone here
    await app.kv.delete(providerCallKeys.byScope("platform:product"));
    await app.kv.delete(providerCallKeys.byScope("platform:price:1500:usd"));
  }
  assert.deepEqual(await platformObjects(), ["price", "product"]);
});

Deno.test("[e2e] a late retry of an older platform plan event does not bring a canceled plan back", async () => {
  await using app = await testApp({ config: { platformPriceCents: 1500 } });
  const dev = await developer(app);
  const pay = await app.call("POST", "/v1/billing/checkout", { key: dev.dat });
  await app.call("POST", new URL(pay.body.url).pathname + "/complete");
  const sandbox = app.services.sandbox!;
  const platform = { accountId: null, mode: "test" as const };
  const [sub] = (await sandbox.listSubscriptions(platform, {})).data.filter((x) =>
    x.metadata?.dream_platform === dev.platformId
  );
  const planOf = async () =>
    (await app.call("GET", "/v1/me", { key: dev.dat })).body.developer.planStatus;
  assert.equal(await planOf(), "active");
  await sandbox.cancelSubscription(platform, sub!.id);
  assert.equal(await planOf(), "canceled");
  // Stripe retries a failed delivery for days: the "active" state of an earlier event arrives now
  await sandbox.emit({
    type: "customer.subscription.updated",
    object: { ...sub!, status: "active" } as unknown as Record<string, unknown>,
    account: null,
  });
  assert.equal(await planOf(), "canceled", "the provider's current state, not the event's copy");
});

Deno.test("[e2e] with a live key, the platform plan lives on the live account and its invoices are read there", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({
    clock,
    config: { ...stripeConfigFor(double, { live: true }), platformPriceCents: 1500 },
  });
  await using srv = servePort(app);
  const dev = await developer(app);
  const res = await srv.call("POST", "/v1/billing/checkout", { key: dev.dat });
  assert.equal(res.status, 200, res.text);
  const platform = liveScope(null);
  const [session] = double.all(platform, "cs_");
  assert.ok(session, "the checkout is made with the live key");
  assert.deepEqual(double.all(null, "cs_"), [], "nothing on the test account");
  const paid = double.pay(platform, session.id as string);
  assert.ok(paid.every((e) => e.livemode === true && e.account === null));
  // checkout.session.completed, customer.subscription.created, invoice.paid: each read live
  await deliverEvents(srv, double, paid);
  const planOf = async () =>
    (await srv.call("GET", "/v1/me", { key: dev.dat })).body.developer.planStatus;
  assert.equal(await planOf(), "active");
  // the renewal's payment fails: Stripe marks the subscription past_due and says so in an invoice event
  const invoice = paid.find((e) => e.type === "invoice.paid")!;
  const sub = double.all(platform, "sub_")[0]!;
  sub.status = "past_due";
  clock.advance(60_000);
  const failed = {
    ...invoice,
    id: "evt_platform_payment_failed",
    type: "invoice.payment_failed",
    created: Math.floor(clock.now() / 1000),
  };
  assert.deepEqual(await deliverEvents(srv, double, [failed]), ["platform plan past_due"]);
  assert.equal(await planOf(), "past_due");
});
