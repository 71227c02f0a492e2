/** [e2e] A project's currency (zero-decimal jpy here) and Stripe Tax at checkout. */
import assert from "node:assert/strict";
import { developer, servePort, testApp, TestClock } from "@/tests/helpers.ts";
import { connectToDouble, stripeConfigFor, StripeDouble } from "@/tests/stripe_double.ts";

const JPY_PROJECT = {
  name: "Tokyo API",
  type: "saas",
  currency: "jpy",
  automaticTax: true,
  tiers: [{ name: "free", price: 0, limit: 10 }, { name: "pro", price: 500, limit: 1000 }],
};

Deno.test("[e2e] a jpy project: chosen at creation, fixed after, shown and charged in whole yen", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const bad = await srv.call("POST", "/v1/projects", {
    key: dev.dat,
    body: { ...JPY_PROJECT, currency: "xyz" },
  });
  assert.equal(bad.status, 422);
  const mixed = await srv.call("POST", "/v1/projects", {
    key: dev.dat,
    body: {
      ...JPY_PROJECT,
      tiers: [...JPY_PROJECT.tiers, { name: "x", price: 9, currency: "usd" }],
    },
  });
  assert.equal(mixed.status, 422, mixed.text);
  const made = await srv.call("POST", "/v1/projects", { key: dev.dat, body: JPY_PROJECT });
  assert.equal(made.status, 201, made.text);
  const { publishableKey: pk, secretKey: sk } = made.body;
  assert.equal(made.body.project.currency, "jpy");
  assert.equal(made.body.project.automaticTax, true);
  assert.ok(made.body.project.tiers.every((t: { currency: string }) => t.currency === "jpy"));
  const fixed = await srv.call("PATCH", `/v1/projects/${pk}`, {
    key: dev.dat,
    body: { currency: "usd" },
  });
  assert.equal(fixed.status, 422);
  assert.equal(fixed.body.error.details[0].field, "currency");
  const usdTier = await srv.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "team", price: 2000, currency: "usd" },
  });
  assert.equal(usdTier.status, 422);
  const team = await srv.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "team", price: 2000, limit: 5000 },
  });
  assert.equal(team.body.tier.currency, "jpy", "a new tier takes the project's currency");

  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "ken" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  const path = new URL(co.body.url).pathname;
  const page = await srv.call("GET", path, { headers: { Accept: "text/html" } });
  assert.match(page.text, /¥500/);
  assert.doesNotMatch(page.text, /¥5\.00/);
  assert.match(page.text, /Stripe Tax calculates it/);
  await srv.call("POST", `${path}/complete`, { body: {} });
  const dash = await srv.call("GET", `/dashboard/projects/${pk}`, {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.match(dash.text, /data-testid="m-mrr"[^>]*>¥500</);
  const tiers = await srv.call("GET", `/dashboard/projects/${pk}/tiers`, {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  // the editor shows whole yen and steps by 1 yen
  assert.match(tiers.text, /value="500"/);
  assert.match(tiers.text, /step="1"/);
});

Deno.test("[e2e] Stripe (double): automaticTax turns on Stripe Tax in Checkout with the billing address", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double) });
  await using srv = servePort(app);
  const dev = await developer(app);
  const made = await srv.call("POST", "/v1/projects", { key: dev.dat, body: JPY_PROJECT });
  await connectToDouble(srv, dev.dat, double);
  const co = await srv.call("POST", "/api/create-checkout", {
    key: made.body.secretKey,
    headers: { "X-User-Id": "ken" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  assert.equal(co.status, 200, co.text);
  const sent = double.requests.find((r) => r.path === "/v1/checkout/sessions")!;
  const form = new URLSearchParams(sent.raw);
  assert.equal(form.get("automatic_tax[enabled]"), "true");
  assert.equal(form.get("billing_address_collection"), "required");
  const price = double.requests.filter((r) => r.path === "/v1/prices").map((r) =>
    new URLSearchParams(r.raw)
  ).find((f) => f.get("unit_amount") === "500")!;
  assert.equal(price.get("currency"), "jpy");
});
