/** [e2e] the SaaS journey with real npm:stripe against the Stripe-API double, events signed like Stripe's. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { deliverEvents, stripeConfigFor, StripeDouble } from "@/tests/stripe_double.ts";
import { TestClock } from "@/tests/helpers.ts";
import { reconcileProject } from "@/lib/billing/reconcile.ts";
import { getProject } from "@/lib/kv/projects.ts";

const TIERS = [
  { name: "free", price: 0, limit: 3 },
  { name: "pro", price: 1900, limit: 100 },
  { name: "team", price: 4900, limit: 1000 },
];

Deno.test("[e2e] SaaS journey against the Stripe double with the real SDK", async (t) => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double) });
  await using srv = servePort(app);
  assert.equal(app.services.payments.kind, "stripe");
  assert.equal(app.services.sandbox, null);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const h = { "X-User-Id": "max" };
  const body = (tier: string) => ({
    tier,
    successUrl: "https://app.example/ok",
    cancelUrl: "https://app.example/no",
  });
  let account = "";

  const deliver = async (event: Record<string, unknown> & { id: string }) =>
    (await deliverEvents(srv, double, [event]))[0]!;

  await t.step("before connecting, checkout asks to connect first", async () => {
    const res = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: h,
      body: body("pro"),
    });
    assert.equal(res.status, 409);
    assert.match(res.body.error.message, /Connect a Stripe account/);
  });

  await t.step(
    "connect: Account Links onboarding, callback stores the account id, catalog syncs",
    async () => {
      const go = await fetch(srv.base + "/v1/connect/authorize", {
        headers: { Authorization: `Bearer ${dev.dat}` },
        redirect: "manual",
      });
      await go.body?.cancel();
      assert.equal(go.status, 302);
      const onboarding = new URL(go.headers.get("location")!);
      assert.ok(onboarding.href.startsWith(double.url + "/onboard/acct_"));
      account = onboarding.pathname.split("/").pop()!;
      const back = new URL(onboarding.searchParams.get("return_to")!);
      assert.equal(back.pathname, "/v1/connect/callback");
      const wrongDev = await developer(app);
      const stolen = await srv.call("GET", back.pathname + back.search, { key: wrongDev.dat });
      assert.equal(stolen.status, 403, "a connect link only works for its developer");
      const cb = await fetch(srv.base + back.pathname + back.search, {
        headers: { Authorization: `Bearer ${dev.dat}` },
        redirect: "manual",
      });
      await cb.body?.cancel();
      assert.equal(cb.status, 302);
      const me = await srv.call("GET", "/v1/me", { key: dev.dat });
      assert.equal(me.body.developer.paymentConnection.provider, "stripe");
      assert.equal(me.body.developer.paymentConnection.test.accountId, account);
      const tiers = (await srv.call("GET", "/api/tiers", { key: pk })).body.tiers;
      for (const tier of tiers) {
        const price = double.find(account, tier.priceId);
        assert.ok(price, `price ${tier.priceId} is on the connected account`);
        assert.equal(price!.unit_amount, tier.price);
      }
      const priceCalls = double.requests.filter((r) =>
        r.method === "POST" && r.path === "/v1/prices"
      );
      assert.equal(priceCalls.length, 3);
      assert.ok(
        priceCalls.every((r) => r.account === account && r.idempotencyKey?.startsWith("dream_")),
      );
    },
  );

  await t.step(
    "a price change makes a new Price and archives the old; keys unchanged",
    async () => {
      const before = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "pro")!;
      const res = await srv.call("PATCH", `/v1/projects/${pk}/tiers/pro`, {
        key: dev.dat,
        body: { price: 2500 },
      });
      assert.equal(res.status, 200);
      assert.notEqual(res.body.tier.priceId, before.priceId);
      assert.equal(res.body.tier.productId, before.productId);
      assert.equal(double.find(account, before.priceId!)!.active, false);
      assert.equal(double.find(account, res.body.tier.priceId)!.unit_amount, 2500);
      assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).status, 200);
    },
  );

  let sessionId = "";
  await t.step("free customer at the limit → checkout on the connected account", async () => {
    for (let i = 0; i < 3; i++) await srv.call("POST", "/api/data", { key: sk, headers: h });
    assert.equal((await srv.call("POST", "/api/data", { key: sk, headers: h })).status, 429);
    const res = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { ...h, "Idempotency-Key": "co-1" },
      body: body("pro"),
    });
    assert.equal(res.status, 200, res.text);
    assert.match(res.body.url, /^https:\/\/checkout\.stripe\.test\/c\/pay\/cs_test_/);
    sessionId = res.body.sessionId;
    const session = double.find(account, sessionId)!;
    assert.equal((session.metadata as Record<string, string>).dream_customer, "max");
    const retry = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { ...h, "Idempotency-Key": "co-1" },
      body: body("pro"),
    });
    assert.equal(retry.body.sessionId, sessionId, "a retried request makes no second session");
  });

  await t.step("payment events (signed) move the customer to pro", async () => {
    const events = double.pay(account, sessionId);
    const outcomes = [];
    for (const e of events) outcomes.push(await deliver(e));
    assert.deepEqual(outcomes, ["applied", "applied", "applied"]);
    assert.equal(await deliver(events[1]!), "duplicate");
    const c = await srv.call("GET", "/api/customers/max", { key: sk });
    assert.equal(c.body.customer.plan, "pro");
    assert.equal(c.body.customer.usage.limit, 100);
    assert.equal(c.body.customer.usage.count, 0);
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.deepEqual([dash.body.activeSubscriptions, dash.body.mrr], [1, 2500]);
  });

  await t.step("an upgrade switches the subscription with proration", async () => {
    const res = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: h,
      body: body("team"),
    });
    assert.equal(res.body.switched, true);
    const update = double.requests.filter((r) =>
      r.method === "POST" && r.path.startsWith("/v1/subscriptions/")
    );
    assert.equal(update.length, 1);
    const c = await srv.call("GET", "/api/customers/max", { key: sk });
    assert.equal(c.body.customer.plan, "team");
    assert.equal(double.all(account, "sub_").length, 1, "no second subscription");
  });

  await t.step("portal, cancel, resume, cancel, period end → free", async () => {
    const portal = await srv.call("POST", "/api/customer-portal", {
      key: sk,
      headers: h,
      body: { returnUrl: "https://app.example/account" },
    });
    assert.equal(portal.status, 200);
    assert.match(portal.body.url, /^https:\/\/billing\.stripe\.test\//);
    const cancel = await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h });
    assert.equal(cancel.body.subscription.cancelAtPeriodEnd, true);
    const subId = cancel.body.subscription.id;
    assert.equal(double.find(account, subId)!.cancel_at_period_end, true);
    clock.advance(1000);
    await deliver(double.subscriptionEvent(account, subId));
    assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.canceling, 1);
    const resume = await srv.call("POST", "/api/subscription/resume", { key: sk, headers: h });
    assert.equal(resume.body.subscription.cancelAtPeriodEnd, false);
    await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h });
    clock.set("2026-12-24T12:00:05.000Z");
    assert.equal(await deliver(double.endPeriod(account, subId)), "applied");
    const c = await srv.call("GET", "/api/customers/max", { key: sk });
    assert.equal(c.body.customer.plan, "free");
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.deepEqual([dash.body.activeSubscriptions, dash.body.canceling, dash.body.mrr], [
      0,
      0,
      0,
    ]);
  });

  await t.step("reconciliation repairs state when an event was missed", async () => {
    const res = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": "missed" },
      body: body("pro"),
    });
    const events = double.pay(account, res.body.sessionId);
    // the webhook never arrives
    assert.equal(
      (await srv.call("GET", "/api/customers/missed", { key: sk })).body.customer.plan,
      "free",
    );
    const project = (await getProject(app.kv, pk))!;
    assert.equal(await reconcileProject(app.services, project), 1);
    const c = await srv.call("GET", "/api/customers/missed", { key: sk });
    assert.equal(c.body.customer.plan, "pro");
    assert.equal(await reconcileProject(app.services, project), 0, "nothing left to repair");
    void events;
  });

  await t.step(
    "a price set back to an earlier amount stays purchasable (one active price)",
    async () => {
      for (const price of [2900, 1900]) {
        const res = await srv.call("PATCH", `/v1/projects/${pk}/tiers/pro`, {
          key: dev.dat,
          body: { price },
        });
        assert.equal(res.status, 200, res.text);
      }
      const pro = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "pro")!;
      const active = double.all(account, "price_").filter((p) =>
        p.product === pro.productId && p.active
      );
      assert.equal(active.length, 1);
      assert.equal(active[0]!.id, pro.priceId);
      const res = await srv.call("POST", "/api/create-checkout", {
        key: sk,
        headers: { "X-User-Id": "returning" },
        body: body("pro"),
      });
      assert.equal(res.status, 200, res.text);
    },
  );

  await t.step("deleting a paying customer cancels the subscription on Stripe", async () => {
    const before = await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat });
    const c = (await srv.call("GET", "/api/customers/missed", { key: sk })).body.customer;
    assert.equal(c.subscription.status, "active");
    assert.equal((await srv.call("DELETE", "/api/customers/missed", { key: sk })).status, 200);
    assert.equal(double.find(account, c.subscription.id)!.status, "canceled");
    const after = await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat });
    assert.equal(after.body.activeSubscriptions, before.body.activeSubscriptions - 1);
    const item = (double.find(account, c.subscription.id)!.items as {
      data: { price: { unit_amount: number } }[];
    }).data[0]!;
    assert.equal(after.body.mrr, before.body.mrr - item.price.unit_amount);
  });

  await t.step("deleting a tier archives its product", async () => {
    const team = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "team")!;
    assert.equal(
      (await srv.call("DELETE", `/v1/projects/${pk}/tiers/team`, { key: dev.dat })).status,
      200,
    );
    assert.equal(double.find(account, team.productId!)!.active, false);
  });

  await t.step("the double refuses what Stripe refuses", async () => {
    const res = await fetch(double.url + "/v1/prices", {
      method: "POST",
      headers: {
        Authorization: `Bearer ${double.apiKey}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body: "currency=usd",
    });
    const err = await res.json();
    assert.equal(res.status, 400);
    assert.equal(err.error.code, "parameter_missing");
    const foreign = await fetch(
      double.url + `/v1/subscriptions/${double.all(account, "sub_")[0]!.id}`,
      {
        headers: { Authorization: `Bearer ${double.apiKey}`, "Stripe-Account": "acct_other" },
      },
    );
    assert.equal(foreign.status, 404);
    await foreign.body?.cancel();
  });
});
