/** [e2e] Hardening: the billing lifecycle stays correct at its edges (sandbox payments). */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { developer, ORIGIN, project, type TestApp, testApp } from "@/tests/helpers.ts";
import { signPayload } from "@/lib/payments/signature.ts";
import { sandboxKeys } from "@/lib/kv/sandbox.ts";

const TIERS = [
  { name: "free", price: 0, limit: 5 },
  { name: "pro", price: 1900, limit: 100 },
  { name: "team", price: 4900, limit: 1000 },
];
const URLS = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };

/** Subscribes customer `id` to `tier` through the sandbox checkout (with an email on the form). */
async function subscribe(app: TestApp, sk: string, id: string, tier: string, email?: string) {
  const res = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": id },
    body: { tier, ...URLS },
  });
  assert.equal(res.status, 200, res.text);
  const done = await app.call("POST", `${new URL(res.body.url).pathname}/complete`, {
    ...(email ? { body: { email } } : {}),
  });
  assert.equal(done.status, 200, done.text);
}

const metrics = async (app: TestApp, pk: string, dat: string) =>
  (await app.call("GET", `/v1/projects/${pk}/dashboard`, { key: dat })).body;

Deno.test("[e2e] a price set back to an earlier amount stays purchasable, with one active price", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  for (const price of [2900, 1900, 2900, 1900]) {
    const res = await app.call("PATCH", `/v1/projects/${pk}/tiers/pro`, {
      key: dev.dat,
      body: { price },
    });
    assert.equal(res.status, 200, res.text);
  }
  const tier = (await app.call("GET", "/api/tiers", { key: pk })).body.tiers
    .find((t: { name: string }) => t.name === "pro");
  assert.equal(tier.price, 1900);
  const prices = [];
  for await (
    const e of app.kv.list<{ product: string; active: boolean; unit_amount: number }>({
      prefix: sandboxKeys.list("price"),
    })
  ) {
    if (e.value.product === tier.productId) prices.push(e.value);
  }
  assert.equal(prices.length, 5, "a new price for each change");
  const active = prices.filter((p) => p.active);
  assert.equal(active.length, 1, "exactly one active price");
  assert.equal(active[0]!.unit_amount, 1900);
  await subscribe(app, sk, "back", "pro");
  const cust = await app.call("GET", "/api/customers/back", { key: sk });
  assert.equal(cust.body.customer.plan, "pro");
});

Deno.test("[e2e] a tier with subscribers can't be deleted (409 tier_in_use) but can be archived", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  await subscribe(app, sk, "payer", "pro");
  const del = await app.call("DELETE", `/v1/projects/${pk}/tiers/pro`, { key: dev.dat });
  assert.equal(del.status, 409);
  assert.equal(del.body.error.code, "tier_in_use");
  assert.match(del.body.error.message, /1 active subscription/);
  assert.ok(
    (await app.call("GET", `/v1/projects/${pk}/tiers`, { key: dev.dat })).body.tiers
      .some((t: { name: string }) => t.name === "pro"),
    "nothing changed",
  );

  const arch = await app.call("PATCH", `/v1/projects/${pk}/tiers/pro`, {
    key: dev.dat,
    body: { archived: true },
  });
  assert.equal(arch.status, 200, arch.text);
  assert.equal(arch.body.tier.archived, true);
  const offered = (await app.call("GET", "/api/tiers", { key: pk })).body.tiers
    .map((t: { name: string }) => t.name);
  assert.deepEqual(offered, ["free", "team"]);
  const fresh = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "newbie" },
    body: { tier: "pro", ...URLS },
  });
  assert.equal(fresh.status, 422);
  assert.equal((await app.call("GET", "/api/customers/newbie", { key: sk })).status, 404);
  const payer = await app.call("GET", "/api/customers/payer", { key: sk });
  assert.equal(payer.body.customer.plan, "pro", "subscribers stay on an archived tier");
  assert.equal(payer.body.customer.usage.limit, 100);

  // a tier nobody pays for can go
  assert.equal(
    (await app.call("DELETE", `/v1/projects/${pk}/tiers/team`, { key: dev.dat })).status,
    200,
  );
  // once the subscription ends, the archived tier can be deleted too
  await app.call("POST", "/api/subscription/cancel", {
    key: sk,
    headers: { "X-User-Id": "payer" },
  });
  app.clock.advance(32 * 86_400_000);
  await app.services.sandbox!.tick();
  assert.equal(
    (await app.call("DELETE", `/v1/projects/${pk}/tiers/pro`, { key: dev.dat })).status,
    200,
  );
});

Deno.test("[e2e] deleting a paying customer cancels at the provider and drops metrics at once", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  await subscribe(app, sk, "leaver", "pro");
  await subscribe(app, sk, "stayer", "team");
  const before = await metrics(app, pk, dev.dat);
  assert.equal(before.activeSubscriptions, 2);
  assert.equal(before.mrr, 6800);
  const subId =
    (await app.call("GET", "/api/customers/leaver", { key: sk })).body.customer.subscription
      .id;
  assert.equal((await app.call("DELETE", "/api/customers/leaver", { key: sk })).status, 200);
  const after = await metrics(app, pk, dev.dat);
  assert.equal(after.activeSubscriptions, 1);
  assert.equal(after.mrr, 4900);
  const atProvider = await app.services.payments.retrieveSubscription(
    { accountId: null, mode: "test" },
    subId,
  );
  assert.equal(atProvider.status, "canceled", "canceled at the provider, not left paying");
  // a customer with the same id comes back; the old subscription's events change nothing
  await app.call("POST", "/api/customers", { key: sk, body: { id: "leaver" } });
  await app.services.sandbox!.emit({
    type: "customer.subscription.updated",
    object: { ...atProvider, status: "active" } as unknown as Record<string, unknown>,
    account: (await app.call("GET", "/v1/me", { key: dev.dat })).body.developer.paymentConnection
      .test.accountId,
  });
  const again = await app.call("GET", "/api/customers/leaver", { key: sk });
  assert.equal(again.body.customer.plan, "free");
  assert.equal(again.body.customer.subscription, null);
  const last = await metrics(app, pk, dev.dat);
  assert.equal(last.activeSubscriptions, 1);
  assert.equal(last.mrr, 4900);
});

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) =>
    permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest])
  );
}

Deno.test("[e2e] subscription events and a customer deletion in every order: never counted twice", async () => {
  const stripe = new Stripe("sk_test_x");
  const steps = ["created", "canceling", "ended", "delete+recreate"] as const;
  for (const order of permutations([...steps])) {
    await using app = await testApp();
    const dev = await developer(app);
    const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
    await app.call("POST", "/api/customers", { key: sk, body: { id: "c1" } });
    await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
    const acct = (await app.call("GET", "/v1/me", { key: dev.dat })).body.developer
      .paymentConnection.test.accountId;
    const price = (await app.call("GET", "/api/tiers", { key: pk })).body.tiers[1];
    const t0 = Math.floor(app.clock.now() / 1000);
    const sub = (status: string, cancel: boolean, at: number) => ({
      id: "sub_perm",
      object: "subscription",
      customer: "cus_perm",
      status,
      cancel_at_period_end: cancel,
      created: t0,
      metadata: { dream_pk: pk, dream_customer: "c1" },
      items: {
        data: [{
          price: {
            id: price.priceId,
            product: price.productId,
            unit_amount: 1900,
            currency: "usd",
            recurring: { interval: "month" },
          },
          quantity: 1,
          current_period_start: t0,
          current_period_end: t0 + 30 * 86_400,
        }],
      },
      _at: at,
    });
    const events = {
      created: ["customer.subscription.created", sub("active", false, t0)],
      canceling: ["customer.subscription.updated", sub("active", true, t0 + 10)],
      ended: ["customer.subscription.deleted", sub("canceled", true, t0 + 20)],
    } as const;
    const send = async (name: keyof typeof events) => {
      const [type, object] = events[name];
      const { _at, ...obj } = object;
      const payload = JSON.stringify({
        id: `evt_${name}`,
        object: "event",
        type,
        created: _at,
        account: acct,
        livemode: false,
        data: { object: obj },
      });
      const sig = await signPayload(stripe, {
        payload,
        secret: `whsec_sandbox_${app.services.config.appSecret}`,
        timestamp: Math.floor(app.clock.now() / 1000),
      });
      const res = await app.call("POST", "/webhook/stripe", {
        raw: payload,
        headers: { "Content-Type": "application/json", "Stripe-Signature": sig },
      });
      assert.equal(res.status, 200, res.text);
    };
    for (const step of order) {
      if (step === "delete+recreate") {
        assert.equal((await app.call("DELETE", "/api/customers/c1", { key: sk })).status, 200);
        await app.call("POST", "/api/customers", { key: sk, body: { id: "c1" } });
      } else {
        await send(step);
      }
      // after every step the aggregates agree with the one customer record
      const c = (await app.call("GET", "/api/customers/c1", { key: sk })).body.customer;
      const paying = c.subscription && c.subscription.status !== "canceled" ? 1 : 0;
      const m = await metrics(app, pk, dev.dat);
      const label = `${order.join(" → ")} after ${step}`;
      assert.equal(m.activeSubscriptions, paying, label);
      assert.equal(m.mrr, paying * 1900, label);
      assert.equal(m.canceling, paying && c.subscription.cancelAtPeriodEnd ? 1 : 0, label);
    }
    const end = await metrics(app, pk, dev.dat);
    assert.equal(end.activeSubscriptions, 0, order.join(" → "));
    assert.equal(end.mrr, 0, order.join(" → "));
    const c = (await app.call("GET", "/api/customers/c1", { key: sk })).body.customer;
    // deleted while it held the subscription: nothing about that subscription comes back
    if (order.indexOf("delete+recreate") > order.indexOf("created")) {
      assert.equal(c.subscription, null, `${order.join(" → ")}: the old subscription stays gone`);
    }
  }
});

Deno.test("[e2e] refused requests create no customer and count nothing", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const as = (id: string) => ({ key: sk, headers: { "X-User-Id": id } });
  const unknownTier = await app.call("POST", "/api/create-checkout", {
    ...as("ghost1"),
    body: { tier: "gold", ...URLS },
  });
  assert.equal(unknownTier.status, 422);
  assert.equal((await app.call("POST", "/api/subscription/cancel", as("ghost2"))).status, 404);
  assert.equal((await app.call("POST", "/api/subscription/resume", as("ghost3"))).status, 404);
  const usage = await app.call("GET", "/api/usage", as("ghost4"));
  assert.equal(usage.status, 200);
  assert.deepEqual([usage.body.usage.count, usage.body.usage.plan], [0, "free"]);
  const over = await app.call("POST", "/api/data", {
    ...as("ghost5"),
    body: { quantity: 1_000_000 },
  });
  assert.equal(over.status, 429);
  assert.match(over.body.error.message, /would pass the usage limit/);
  for (const id of ["ghost1", "ghost2", "ghost3", "ghost4", "ghost5"]) {
    assert.equal((await app.call("GET", `/api/customers/${id}`, { key: sk })).status, 404, id);
  }
  assert.equal((await metrics(app, pk, dev.dat)).customers, 0);
  assert.equal((await metrics(app, pk, dev.dat)).usageThisPeriod, 0);
  // an existing customer asking for more than is left: the message says so
  await app.call("POST", "/api/data", as("real"));
  const big = await app.call("POST", "/api/data", { ...as("real"), body: { quantity: 50 } });
  assert.equal(big.status, 429);
  assert.match(big.body.error.message, /request of 50 would pass the usage limit.*1 of 5 used/);
  assert.equal(big.body.error.usage.count, 1);
});

Deno.test("[e2e] the email given at the sandbox checkout is kept on the customer and the order", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: TIERS });
  await subscribe(app, sk, "mailer", "pro", "Mailer@Example.com");
  const c = await app.call("GET", "/api/customers/mailer", { key: sk });
  assert.equal(c.body.customer.email, "mailer@example.com");

  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 3 }],
  });
  const priceId = (await app.call("GET", "/api/products", { key: store.pk })).body.products[0]
    .priceId;
  const cart = await app.call("POST", "/api/cart/checkout", {
    key: store.pk,
    body: { items: [{ priceId, quantity: 1 }], ...URLS },
  });
  const complete = `${new URL(cart.body.url).pathname}/complete`;
  // an address that is not one shows the page again (nothing is paid), as the provider's does
  for (const email of [`${"a".repeat(300)}@b.co`, "not an email", "a@"]) {
    const bad = await app.fetch(
      new Request(`${ORIGIN}${complete}`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN },
        body: new URLSearchParams({ email }),
      }),
    );
    assert.equal(bad.status, 422, email);
    assert.match(await bad.text(), /Enter a valid email address/);
  }
  const json = await app.call("POST", complete, { body: { email: "nope" } });
  assert.equal(json.status, 422);
  assert.equal(json.body.error.details[0].field, "email");
  await app.call("POST", complete, { body: { email: " buyer@example.com " } });
  const resv = await app.kv.get<{ email: string; status: string }>([
    "reservations",
    store.pk,
    cart.body.reservationId,
  ]);
  assert.equal(resv.value?.status, "completed");
  assert.equal(resv.value?.email, "buyer@example.com");
});

Deno.test("[e2e] live mode on the sandbox says plainly that no real payment provider is set", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 3 }],
  });
  const page = (path: string) =>
    app.call("GET", path, { headers: { Cookie: dev.cookie, Accept: "text/html" } });
  assert.match((await page(`/dashboard/projects/${pk}/live`)).text, /no real payment provider/);
  const live = await app.call("POST", `/v1/projects/${pk}/promote`, { key: dev.dat, body: {} });
  assert.equal(live.status, 201, live.text);
  const livePk = live.body.publishableKey;
  assert.match(
    (await page(`/dashboard/projects/${livePk}`)).text,
    /data-testid="no-live-provider"/,
  );
  assert.doesNotMatch((await page(`/dashboard/projects/${pk}`)).text, /no-live-provider/);
  const priceId = (await app.call("GET", "/api/products", { key: livePk })).body.products[0]
    .priceId;
  const cart = await app.call("POST", "/api/cart/checkout", {
    key: livePk,
    body: { items: [{ priceId, quantity: 1 }], ...URLS },
  });
  assert.equal(cart.status, 200, cart.text);
  const checkout = await app.call("GET", new URL(cart.body.url).pathname);
  assert.match(checkout.text, /no real payment provider is configured/);
});

Deno.test("[e2e] the sandbox clock reads only what is due, and ticks never overlap", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: TIERS });
  const sandbox = app.services.sandbox!;
  for (const id of ["s1", "s2", "s3"]) await subscribe(app, sk, id, "pro");
  await app.call("POST", "/api/subscription/cancel", { key: sk, headers: { "X-User-Id": "s3" } });
  const open = [];
  for (const id of ["o1", "o2", "o3"]) {
    const res = await app.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": id },
      body: { tier: "team", ...URLS },
    });
    open.push(new URL(res.body.url).pathname);
  }
  await app.call("POST", `${open[0]}/cancel`);
  const dueOf = async (kind: "checkout" | "subscription") => {
    let n = 0;
    for await (const _ of app.kv.list({ prefix: sandboxKeys.listDue(kind) })) n++;
    return n;
  };
  assert.equal(await dueOf("subscription"), 3, "live subscriptions only");
  assert.equal(await dueOf("checkout"), 2, "open sessions only: finished ones left the index");

  app.clock.advance(31 * 86_400_000);
  const a = sandbox.tick();
  const b = sandbox.tick();
  assert.equal(a, b, "a tick asked for during a tick joins it");
  assert.equal(await a, 5, "two renewals, one end, two expiries");
  assert.equal(await sandbox.tick(), 0, "nothing is due twice");
  const period = async (id: string) =>
    (await app.call("GET", `/api/customers/${id}`, { key: sk })).body.customer.subscription;
  assert.equal((await period("s1")).currentPeriodEnd, "2027-01-24T12:00:00.000Z", "renewed once");
  assert.equal((await period("s3")).status, "canceled");
  assert.equal(await dueOf("subscription"), 2, "the ended subscription left the index");
  assert.equal(await dueOf("checkout"), 0);
});
