/** [e2e] the whole SaaS journey through the offline sandbox, over HTTP. */
import assert from "node:assert/strict";
import { developer, ORIGIN, project, servePort, testApp } from "@/tests/helpers.ts";
import { openCheckoutKeys } from "@/lib/kv/open_checkouts.ts";

const TIERS = [
  { name: "free", price: 0, limit: 3 },
  { name: "pro", price: 1900, limit: 100 },
  { name: "team", price: 12000, interval: "year", limit: 1000 },
];

Deno.test("[e2e] SaaS journey via the sandbox: limit → checkout → pro → cancel → resume → period end → free", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const h = { "X-User-Id": "jo" };
  const path = (url: string) => new URL(url).pathname;
  const checkout = (headers: Record<string, string>, tier: string) =>
    srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers,
      body: { tier, successUrl: "https://app.example/ok", cancelUrl: "https://app.example/cancel" },
    });
  let checkoutUrl = "";

  await t.step("tiers are synced to sandbox products and prices", async () => {
    const tiers = (await srv.call("GET", "/api/tiers", { key: pk })).body.tiers;
    for (const tier of tiers) {
      assert.match(tier.productId, /^prod_/);
      assert.match(tier.priceId, /^price_/);
    }
  });

  await t.step("a free customer hits the limit", async () => {
    for (let i = 0; i < 3; i++) {
      assert.equal((await srv.call("POST", "/api/data", { key: sk, headers: h })).status, 200);
    }
    const over = await srv.call("POST", "/api/data", { key: sk, headers: h });
    assert.equal(over.status, 429);
  });

  await t.step(
    "POST /api/create-checkout gives a sandbox checkout URL on this server",
    async () => {
      const bad = await srv.call("POST", "/api/create-checkout", {
        key: sk,
        headers: h,
        body: {
          tier: "pro",
          successUrl: "javascript:alert(1)",
          cancelUrl: "https://app.example/cancel",
        },
      });
      assert.equal(bad.status, 422);
      assert.equal(
        (await checkout(h, "free")).status,
        422,
      );
      assert.equal(
        (await checkout(h, "gold")).status,
        422,
      );
      const res = await checkout(h, "pro");
      assert.equal(res.status, 200);
      assert.equal(res.body.switched, false);
      assert.ok(res.body.url.startsWith(srv.base + "/sandbox/checkout/cs_test_"), res.body.url);
      checkoutUrl = res.body.url;
      const page = await fetch(checkoutUrl);
      const html = await page.text();
      assert.equal(page.status, 200);
      assert.match(html, /Sandbox/);
      assert.match(html, /\$19\.00/);
    },
  );

  await t.step("POST <checkout>/complete applies the subscription before answering", async () => {
    const done = await srv.call("POST", path(checkoutUrl) + "/complete");
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.status, "complete");
    assert.equal(done.body.redirectUrl, "https://app.example/ok");
    const again = await srv.call("POST", path(checkoutUrl) + "/complete");
    assert.equal(again.status, 409);
    const c = await srv.call("GET", "/api/customers/jo", { key: sk });
    assert.equal(c.body.customer.plan, "pro");
    assert.equal(c.body.customer.subscription.status, "active");
    assert.equal(c.body.customer.subscription.cancelAtPeriodEnd, false);
    const u = c.body.customer.usage;
    assert.equal(u.limit, 100);
    assert.equal(u.count, 0, "a new billing period starts with the subscription");
    assert.equal(u.periodStart, "2026-11-24T12:00:00.000Z");
    assert.equal(u.periodEnd, "2026-12-24T12:00:00.000Z");
    assert.equal((await srv.call("POST", "/api/data", { key: sk, headers: h })).status, 200);
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.activeSubscriptions, 1);
    assert.equal(dash.body.mrr, 1900);
    assert.equal(dash.body.canceling, 0);
  });

  await t.step("checking out again switches instead of opening a second subscription", async () => {
    const res = await checkout(h, "team");
    assert.equal(res.status, 200);
    assert.equal(res.body.switched, true);
    const c = await srv.call("GET", "/api/customers/jo", { key: sk });
    assert.equal(c.body.customer.plan, "team");
    assert.equal(c.body.customer.usage.limit, 1000);
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.activeSubscriptions, 1);
    assert.equal(dash.body.mrr, 1000, "yearly 12000 counts 1000 a month");
    const same = await checkout(h, "team");
    assert.equal(same.status, 409);
    // back to pro through the sandbox portal
    const portal = await srv.call("POST", "/api/customer-portal", {
      key: sk,
      headers: h,
      body: { returnUrl: "https://app.example/account" },
    });
    assert.equal(portal.status, 200);
    const sw = await srv.call("POST", path(portal.body.url) + "/switch", { body: { tier: "pro" } });
    assert.equal(sw.status, 200, sw.text);
    const back = await srv.call("GET", "/api/customers/jo", { key: sk });
    assert.equal(back.body.customer.plan, "pro");
    assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.mrr, 1900);
  });

  await t.step("cancel at period end keeps the plan; resume undoes it", async () => {
    const cancel = await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h });
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.subscription.cancelAtPeriodEnd, true);
    assert.equal(cancel.body.subscription.tier, "pro");
    assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.canceling, 1);
    const u = await srv.call("GET", "/api/usage", { key: sk, headers: h });
    assert.equal(u.body.usage.plan, "pro");
    const resume = await srv.call("POST", "/api/subscription/resume", { key: sk, headers: h });
    assert.equal(resume.status, 200);
    assert.equal(resume.body.subscription.cancelAtPeriodEnd, false);
    assert.equal((await srv.call("GET", "/api/dashboard", { key: sk })).body.canceling, 0);
  });

  await t.step("the portal page offers cancel, resume and switch", async () => {
    const portal = await srv.call("POST", "/api/customer-portal", {
      key: sk,
      headers: h,
      body: { returnUrl: "https://app.example/account" },
    });
    const html = await (await fetch(portal.body.url)).text();
    assert.match(html, /Cancel subscription/);
    assert.match(html, /Switch plan/);
    const cancel = await srv.call("POST", path(portal.body.url) + "/cancel");
    assert.equal(cancel.status, 200);
    assert.equal(cancel.body.subscription.cancelAtPeriodEnd, true);
    const c = await srv.call("GET", "/api/customers/jo", { key: sk });
    assert.equal(c.body.customer.subscription.cancelAtPeriodEnd, true);
  });

  await t.step("at period end the subscription ends and the customer is back on free", async () => {
    app.clock.set("2026-12-24T12:00:01.000Z");
    await app.services.sandbox!.tick();
    const c = await srv.call("GET", "/api/customers/jo", { key: sk });
    assert.equal(c.body.customer.plan, "free");
    assert.equal(c.body.customer.subscription.status, "canceled");
    assert.equal(c.body.customer.usage.limit, 3);
    assert.equal(c.body.customer.usage.periodStart, "2026-12-01T00:00:00.000Z");
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.activeSubscriptions, 0);
    assert.equal(dash.body.canceling, 0);
    assert.equal(dash.body.mrr, 0);
    assert.equal(
      (await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h })).status,
      404,
    );
  });

  await t.step("a renewing subscription moves to the next period with invoice.paid", async () => {
    const res = await checkout({ "X-User-Id": "renewer" }, "pro");
    await srv.call("POST", path(res.body.url) + "/complete");
    app.clock.set("2027-01-24T12:00:05.000Z");
    await app.services.sandbox!.tick();
    const c = await srv.call("GET", "/api/customers/renewer", { key: sk });
    assert.equal(c.body.customer.plan, "pro");
    assert.equal(c.body.customer.subscription.currentPeriodStart, "2027-01-24T12:00:01.000Z");
    assert.equal(c.body.customer.subscription.currentPeriodEnd, "2027-02-24T12:00:01.000Z");
  });

  await t.step(
    "cancel and expire of an open checkout change nothing for the customer",
    async () => {
      const res = await checkout({ "X-User-Id": "quitter" }, "pro");
      const cancel = await srv.call("POST", path(res.body.url) + "/cancel");
      assert.equal(cancel.status, 200);
      assert.equal(cancel.body.redirectUrl, "https://app.example/cancel");
      assert.equal((await srv.call("POST", path(res.body.url) + "/complete")).status, 409);
      const c = await srv.call("GET", "/api/customers/quitter", { key: sk });
      assert.equal(c.body.customer.plan, "free");
      const form = await fetch(
        srv.base + path(res.body.url).replace(/cs_test_\w+/, "cs_test_nope") + "/complete",
        { method: "POST" },
      );
      assert.equal(form.status, 404);
      await form.body?.cancel();
    },
  );

  await t.step("the page's Pay button (a form post) redirects to the success URL", async () => {
    const res = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": "former" },
      body: {
        tier: "pro",
        successUrl: "https://app.example/thanks",
        cancelUrl: "https://app.example/cancel",
      },
    });
    const pay = await fetch(res.body.url + "/complete", {
      method: "POST",
      body: new URLSearchParams({ email: "former@example.com", card: "4242 4242 4242 4242" }),
      redirect: "manual",
    });
    await pay.body?.cancel();
    assert.equal(pay.status, 303);
    assert.equal(pay.headers.get("location"), "https://app.example/thanks");
    const c = await srv.call("GET", "/api/customers/former", { key: sk });
    assert.equal(c.body.customer.plan, "pro");
  });

  await t.step("browser customers use checkout with pk + token; store projects can't", async () => {
    const tok = await srv.call("POST", "/api/customers/quitter/token", { key: sk });
    const res = await srv.call("POST", "/api/create-checkout", {
      key: pk,
      headers: { "X-Customer-Token": tok.body.token },
      body: {
        tier: "pro",
        successUrl: "https://app.example/ok",
        cancelUrl: "https://app.example/cancel",
      },
    });
    assert.equal(res.status, 200);
    const store = await project(app, dev.dat, {
      type: "store",
      tiers: [{ name: "mug", price: 900, inventory: 2 }],
    });
    const no = await srv.call("POST", "/api/create-checkout", {
      key: store.sk,
      headers: h,
      body: {
        tier: "mug",
        successUrl: "https://app.example/ok",
        cancelUrl: "https://app.example/cancel",
      },
    });
    assert.equal(no.status, 403);
    assert.match(no.body.error.message, /Store project/);
  });

  await t.step(
    "the portal works for a customer who never paid; cancel answers the subscription",
    async () => {
      const portal = await srv.call("POST", "/api/customer-portal", {
        key: sk,
        headers: { "X-User-Id": "never_paid" },
        body: { returnUrl: "https://app.example/account" },
      });
      assert.equal(portal.status, 200, portal.text);
      assert.match(portal.body.url, /\/sandbox\/portal\//);
      const again = await srv.call("POST", "/api/customer-portal", {
        key: sk,
        headers: { "X-User-Id": "never_paid" },
        body: { returnUrl: "https://app.example/account" },
      });
      assert.equal(again.status, 200);
      const html = await (await fetch(portal.body.url)).text();
      assert.match(html, /No active subscription/);
      assert.equal(
        (await srv.call("POST", "/api/subscription/cancel", {
          key: sk,
          headers: { "X-User-Id": "never_paid" },
        })).status,
        404,
      );
      const co = await checkout({ "X-User-Id": "never_paid" }, "pro");
      await srv.call("POST", path(co.body.url) + "/complete");
      const cancel = await srv.call("POST", "/api/subscription/cancel", {
        key: sk,
        headers: { "X-User-Id": "never_paid" },
      });
      assert.equal(cancel.body.cancelAtPeriodEnd, true, "the subscription's fields at the top");
      assert.equal(cancel.body.subscription.cancelAtPeriodEnd, true, "and under `subscription`");
      assert.equal(cancel.body.tier, "pro");
    },
  );

  await t.step("the connection shows on /v1/me", async () => {
    const me = await srv.call("GET", "/v1/me", { key: dev.dat });
    assert.equal(me.body.developer.paymentConnection.provider, "sandbox");
    assert.match(me.body.developer.paymentConnection.test.accountId, /^acct_sandbox/);
    const redirect = await fetch(srv.base + "/v1/connect/authorize?returnTo=/dashboard", {
      headers: { Authorization: `Bearer ${dev.dat}` },
      redirect: "manual",
    });
    await redirect.body?.cancel();
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get("location"), "/dashboard");
    const open = await fetch(srv.base + "/v1/connect/authorize?returnTo=https://evil.example", {
      headers: { Authorization: `Bearer ${dev.dat}` },
      redirect: "manual",
    });
    await open.body?.cancel();
    assert.equal(open.status, 422, "no open redirect");
  });
  void ORIGIN;
});

/** The path of a sandbox page's URL (its actions are posted there). */
const pathOf = (url: string) => new URL(url).pathname;

/** A developer's SaaS project with TIERS on a served app, for the tests below. */
async function sandboxProject() {
  const app = await testApp();
  const srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  /** `POST /api/create-checkout` of `tier` for customer `user`. */
  const checkoutAs = (user: string, tier: string, headers: Record<string, string> = {}) =>
    srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": user, ...headers },
      body: { tier, successUrl: "https://app.example/ok", cancelUrl: "https://app.example/cancel" },
    });
  return {
    app,
    srv,
    dev,
    pk,
    sk,
    checkoutAs,
    /** The project's event log, newest first. */
    events: async () =>
      (await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat })).body
        .events as { type: string; outcome: string; summary: string }[],
    async [Symbol.asyncDispose]() {
      await srv[Symbol.asyncDispose]();
      await app[Symbol.asyncDispose]();
    },
  };
}

Deno.test("[e2e] two checkouts opened for one customer: only the newer can be paid, one subscription", async () => {
  await using t = await sandboxProject();
  const { srv, sk } = t;
  const checkout = (tier: string, headers: Record<string, string> = {}) =>
    t.checkoutAs("tabs", tier, headers);
  const first = await checkout("pro");
  const second = await checkout("team");
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.notEqual(first.body.sessionId, second.body.sessionId);
  // the first tab's checkout expired when the second was opened
  const stale = await srv.call("POST", pathOf(first.body.url) + "/complete");
  assert.equal(stale.status, 409, stale.text);
  assert.equal((await srv.call("POST", pathOf(second.body.url) + "/complete")).status, 200);
  const c = await srv.call("GET", "/api/customers/tabs", { key: sk });
  assert.equal(c.body.customer.plan, "team");
  const dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.activeSubscriptions, 1);
  assert.equal(dash.body.mrr, 1000);
  // a retried request (same Idempotency-Key) answers its own session and expires nothing
  const a = await checkout("pro", { "X-User-Id": "retry", "Idempotency-Key": "k-1" });
  const b = await checkout("pro", { "X-User-Id": "retry", "Idempotency-Key": "k-1" });
  assert.equal(a.body.sessionId, b.body.sessionId);
  // the same key asking for another tier is another request: 409, as Stripe answers it
  const other = await checkout("team", { "X-User-Id": "retry", "Idempotency-Key": "k-1" });
  assert.equal(other.status, 409, other.text);
  assert.match(other.body.error.message, /Idempotency-Key was already used/);
  assert.equal((await srv.call("POST", pathOf(b.body.url) + "/complete")).status, 200);
  assert.equal(
    (await srv.call("GET", "/api/customers/retry", { key: sk })).body.customer.plan,
    "pro",
  );
});

Deno.test("[e2e] a deleted customer's checkout can't be paid, and one paid anyway is ended at the provider", async () => {
  await using t = await sandboxProject();
  const { app, srv, pk, sk } = t;
  const checkout = (id: string) => t.checkoutAs(id, "pro");

  const open = await checkout("leaver");
  assert.equal((await srv.call("DELETE", "/api/customers/leaver", { key: sk })).status, 200);
  assert.equal((await srv.call("POST", pathOf(open.body.url) + "/complete")).status, 409);

  // a checkout the deletion could not stop (paid in the instant between): its subscription would
  // bill no one, so its first event ends it at the provider
  const raced = await checkout("racer");
  await app.kv.delete(openCheckoutKeys.subscription(pk, "racer"));
  assert.equal((await srv.call("DELETE", "/api/customers/racer", { key: sk })).status, 200);
  assert.equal((await srv.call("POST", pathOf(raced.body.url) + "/complete")).status, 200);
  const events = await t.events();
  assert.ok(
    events.some((e) =>
      e.type === "customer.subscription.created" &&
      e.outcome === "no_customer: ended at the provider"
    ),
    JSON.stringify(events.map((e) => [e.type, e.outcome])),
  );
  assert.ok(
    events.some((e) =>
      e.type === "customer.subscription.deleted" && /racer: canceled/.test(e.summary)
    ),
    "the provider ended it",
  );
  const dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.activeSubscriptions, 0);
  assert.equal(dash.body.customers, 0);
});

Deno.test("[e2e] a deleted tier's open checkouts can't be paid, and one paid anyway is ended at the provider", async () => {
  await using t = await sandboxProject();
  const { app, srv, dev, pk, sk } = t;
  const del = () => srv.call("DELETE", `/v1/projects/${pk}/tiers/team`, { key: dev.dat });
  const recreate = () =>
    srv.call("POST", `/v1/projects/${pk}/tiers`, {
      key: dev.dat,
      body: { name: "team", price: 12000, interval: "year", limit: 1000 },
    });
  const plan = async (id: string) =>
    (await srv.call("GET", `/api/customers/${id}`, { key: sk })).body.customer;

  const open = await t.checkoutAs("late", "team");
  const other = await t.checkoutAs("elsewhere", "pro"); // another tier's checkout stays open
  assert.equal((await del()).status, 200);
  assert.equal((await srv.call("POST", pathOf(open.body.url) + "/complete")).status, 409);
  assert.equal((await srv.call("POST", pathOf(other.body.url) + "/complete")).status, 200);
  assert.equal((await plan("elsewhere")).plan, "pro");

  // a checkout the deletion could not stop (paid in the instant between): its subscription would
  // bill for a tier that is gone, so its first event ends it at the provider
  assert.equal((await recreate()).status, 201);
  const raced = await t.checkoutAs("racer", "team");
  await app.kv.delete(openCheckoutKeys.subscription(pk, "racer"));
  assert.equal((await del()).status, 200);
  assert.equal((await srv.call("POST", pathOf(raced.body.url) + "/complete")).status, 200);
  const events = await t.events();
  assert.ok(
    events.some((e) =>
      e.type === "customer.subscription.created" &&
      e.outcome === "tier_deleted: ended at the provider" && e.summary === "racer: team"
    ),
    JSON.stringify(events.map((e) => [e.type, e.outcome, e.summary])),
  );
  const racer = await plan("racer");
  assert.equal(racer.plan, "free");
  assert.equal(racer.subscription, null);
  const dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.activeSubscriptions, 1, "the pro subscriber only");
  assert.equal(dash.body.mrr, 1900);
});

Deno.test("[e2e] choosing a tier while the subscription is set to end keeps it going: checkout and portal", async () => {
  await using t = await sandboxProject();
  const { srv, sk } = t;
  const h = { "X-User-Id": "undecided" };
  const sub = async () =>
    (await srv.call("GET", "/api/customers/undecided", { key: sk })).body.customer;
  const co = await t.checkoutAs("undecided", "pro");
  await srv.call("POST", pathOf(co.body.url) + "/complete");
  assert.equal(
    (await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h })).status,
    200,
  );
  assert.equal((await sub()).subscription.cancelAtPeriodEnd, true);

  // an upgrade bought at checkout: switched, and no longer ending
  const up = await t.checkoutAs("undecided", "team");
  assert.equal(up.body.switched, true);
  let c = await sub();
  assert.equal(c.plan, "team");
  assert.equal(c.subscription.cancelAtPeriodEnd, false);
  let dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.canceling, 0);

  // the same through the sandbox portal's switch
  assert.equal(
    (await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h })).status,
    200,
  );
  const portal = await srv.call("POST", "/api/customer-portal", {
    key: sk,
    headers: h,
    body: { returnUrl: "https://app.example/account" },
  });
  const sw = await srv.call("POST", pathOf(portal.body.url) + "/switch", { body: { tier: "pro" } });
  assert.equal(sw.status, 200, sw.text);
  c = await sub();
  assert.equal(c.plan, "pro");
  assert.equal(c.subscription.cancelAtPeriodEnd, false);
  dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.canceling, 0);
  assert.equal(dash.body.activeSubscriptions, 1);

  // buying the very tier being left resumes it, charging nothing; bought again, it is a conflict
  assert.equal(
    (await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: h })).status,
    200,
  );
  const same = () => t.checkoutAs("undecided", "pro");
  const resumed = await same();
  assert.equal(resumed.status, 200, resumed.text);
  assert.deepEqual(resumed.body, { url: "https://app.example/ok", switched: true, resumed: true });
  c = await sub();
  assert.equal(c.plan, "pro");
  assert.equal(c.subscription.cancelAtPeriodEnd, false);
  assert.equal((await same()).status, 409);
});

Deno.test("[e2e] two checkouts paid anyway (the race the expiry can't stop): the earlier purchase is ended at the provider", async () => {
  await using t = await sandboxProject();
  const { app, srv, pk, sk } = t;
  const first = await t.checkoutAs("both", "pro");
  // as if the second checkout had opened while the first was being paid: nothing expired it
  await app.kv.delete(openCheckoutKeys.subscription(pk, "both"));
  const second = await t.checkoutAs("both", "team");
  assert.equal((await srv.call("POST", pathOf(first.body.url) + "/complete")).status, 200);
  app.clock.advance(1000);
  assert.equal((await srv.call("POST", pathOf(second.body.url) + "/complete")).status, 200);
  const c = (await srv.call("GET", "/api/customers/both", { key: sk })).body.customer;
  assert.equal(c.plan, "team", "the later purchase is the customer's");
  const dash = await srv.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.activeSubscriptions, 1);
  assert.equal(dash.body.mrr, 1000);
  const events = await t.events();
  assert.equal(
    events.filter((e) => e.type === "customer.subscription.deleted").length,
    1,
    "the provider ended the first one",
  );
  // its late events don't take the customer back
  app.clock.advance(40 * 86_400_000);
  await app.services.sandbox!.tick();
  assert.equal(
    (await srv.call("GET", "/api/customers/both", { key: sk })).body.customer.plan,
    "team",
  );
});
