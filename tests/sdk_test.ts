/** [e2e] the SDK (sdk/src) under Deno against the real server: every method, errors, retries, timeouts. */
import assert from "node:assert/strict";
import { DreamApi, DreamApiError, DreamBrowser, ENDPOINTS } from "../sdk/src/index.ts";
import type {
  CartInput,
  CheckoutInput,
  Customer,
  Product,
  Subscription,
  Tier,
  Usage,
} from "../sdk/src/index.ts";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] SDK server and browser clients against the running server", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const saas = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }],
  });
  const dream = new DreamApi({ secretKey: saas.sk, baseUrl: srv.base });
  const urls = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };

  await t.step("customers: create, get, token, delete", async () => {
    const c = await dream.customers.create({ id: "sdk_user", email: "sdk@example.com" });
    assert.equal(c.plan, "free");
    assert.equal((await dream.customers.get("sdk_user")).email, "sdk@example.com");
    const tok = await dream.customers.token("sdk_user");
    assert.ok(tok.token.split(".").length === 3);
    await dream.customers.create({ id: "gone" });
    assert.deepEqual(await dream.customers.delete("gone"), { deleted: true, id: "gone" });
    await assert.rejects(
      () => dream.customers.get("gone"),
      (e) =>
        e instanceof DreamApiError && e.status === 404 && e.code === "not_found" && !!e.requestId,
    );
  });

  await t.step("usage: track (idempotent retries), get, limit error carries usage", async () => {
    const u1 = await dream.usage.track("sdk_user");
    assert.equal(u1.count, 1);
    const u2 = await dream.usage.track("sdk_user", { quantity: 1, idempotencyKey: "same" });
    const u3 = await dream.usage.track("sdk_user", { quantity: 1, idempotencyKey: "same" });
    assert.deepEqual(u3, u2, "same key: counted once");
    assert.equal((await dream.usage.get("sdk_user")).count, 2);
    await dream.usage.track("sdk_user");
    await assert.rejects(() => dream.usage.track("sdk_user"), (e) => {
      assert.ok(e instanceof DreamApiError);
      assert.equal(e.status, 429);
      assert.equal(e.code, "tier_limit_reached");
      assert.equal(e.usage?.count, 3);
      assert.equal(e.usage?.limit, 3);
      return true;
    });
  });

  await t.step("billing: checkout, switch, portal, cancel, resume", async () => {
    const co = await dream.billing.checkout("sdk_user", { tier: "pro", ...urls });
    assert.equal(co.switched, false);
    const paid = await fetch(co.url + "/complete", { method: "POST" });
    assert.equal(paid.status, 200);
    await paid.body?.cancel();
    assert.equal((await dream.usage.get("sdk_user")).plan, "pro");
    assert.match(
      (await dream.billing.portal("sdk_user", { returnUrl: "https://app.example/account" })).url,
      /\/sandbox\/portal\//,
    );
    assert.equal((await dream.billing.cancel("sdk_user")).cancelAtPeriodEnd, true);
    assert.equal((await dream.billing.resume("sdk_user")).cancelAtPeriodEnd, false);
    await assert.rejects(
      () => dream.billing.checkout("sdk_user", { tier: "nope", ...urls }),
      (e) => e instanceof DreamApiError && e.status === 422 && e.details[0]?.field === "tier",
    );
  });

  await t.step("tiers and dashboard", async () => {
    const { tiers } = await dream.tiers();
    assert.deepEqual(tiers.map((x) => x.name), ["free", "pro"]);
    const d = await dream.dashboard();
    assert.equal(d.type, "saas");
    assert.equal(d.type === "saas" && d.activeSubscriptions, 1);
  });

  await t.step("browser client: pricing, customer actions with a token", async () => {
    const { token } = await dream.customers.token("sdk_user");
    const browser = new DreamBrowser({ publishableKey: saas.pk, baseUrl: srv.base });
    assert.equal((await browser.tiers()).tiers.length, 2);
    await assert.rejects(
      () => browser.usage.get(),
      (e) => e instanceof DreamApiError && e.status === 401,
    );
    browser.setCustomerToken(token);
    assert.equal(
      (await browser.usage.track({ quantity: 2 })).count,
      2,
      "the pro period started at checkout",
    );
    assert.equal((await browser.usage.get()).plan, "pro");
    assert.equal((await browser.billing.cancel()).cancelAtPeriodEnd, true);
    assert.equal((await browser.billing.resume()).cancelAtPeriodEnd, false);
    assert.match(
      (await browser.billing.portal({ returnUrl: "https://app.example/a" })).url,
      /portal/,
    );
    await assert.rejects(
      () => browser.billing.checkout({ tier: "pro", ...urls }),
      (e) => e instanceof DreamApiError && e.status === 409,
    );
  });

  await t.step("store: products and cart checkout with both clients", async () => {
    const shop = new DreamBrowser({ publishableKey: store.pk, baseUrl: srv.base });
    const [mug] = await shop.products();
    assert.equal(mug!.inventory, 5);
    const cart = await shop.cart.checkout({
      items: [{ productId: mug!.id, quantity: 2 }],
      ...urls,
    });
    assert.match(cart.url, /\/sandbox\/checkout\//);
    const server = new DreamApi({ secretKey: store.sk, baseUrl: srv.base });
    assert.equal((await server.products())[0]!.inventory, 3);
    await assert.rejects(
      () => server.cart.checkout({ items: [{ productId: mug!.id, quantity: 9 }], ...urls }),
      (e) => e instanceof DreamApiError && e.status === 409,
    );
    const dash = await server.dashboard();
    assert.equal(dash.type, "store");
  });

  await t.step("bad keys are typed errors", async () => {
    const bad = new DreamApi({ secretKey: "sk_test_" + "x".repeat(32), baseUrl: srv.base });
    await assert.rejects(
      () => bad.tiers(),
      (e) => e instanceof DreamApiError && e.status === 401 && e.code === "invalid_api_key",
    );
    assert.throws(() => new DreamApi({ secretKey: saas.pk }), TypeError);
    assert.throws(() => new DreamBrowser({ publishableKey: saas.sk }), TypeError);
  });

  await t.step("every SDK endpoint is in /openapi.json", async () => {
    const doc = (await srv.call("GET", "/openapi.json")).body;
    for (const [method, path] of ENDPOINTS) {
      assert.ok(doc.paths[path]?.[method.toLowerCase()], `${method} ${path}`);
    }
  });
});

Deno.test("SDK retries network errors, 5xx and rate limits on safe calls, with bounded attempts and timeouts", async () => {
  let calls = 0;
  const flaky: typeof fetch = (_input, _init) => {
    calls++;
    if (calls === 1) return Promise.reject(new TypeError("connection reset"));
    if (calls === 2) {
      return Promise.resolve(
        new Response(
          JSON.stringify({ error: { code: "internal_error", message: "boom", requestId: "r" } }),
          { status: 503 },
        ),
      );
    }
    return Promise.resolve(Response.json({ type: "saas", tiers: [] }));
  };
  const dream = new DreamApi({ secretKey: "sk_test_x", fetch: flaky, maxRetries: 2 });
  assert.deepEqual(await dream.tiers(), { type: "saas", tiers: [] });
  assert.equal(calls, 3);

  calls = 0;
  const always500: typeof fetch = () => {
    calls++;
    return Promise.resolve(new Response("{}", { status: 500 }));
  };
  await assert.rejects(
    () => new DreamApi({ secretKey: "sk_test_x", fetch: always500, maxRetries: 1 }).tiers(),
    (e) => e instanceof DreamApiError && e.status === 500,
  );
  assert.equal(calls, 2, "bounded");

  calls = 0;
  const keys: (string | null)[] = [];
  const limited: typeof fetch = (_i, init) => {
    calls++;
    keys.push(new Headers(init?.headers).get("Idempotency-Key"));
    return Promise.resolve(
      calls === 1
        ? new Response(JSON.stringify({ error: { code: "rate_limited", message: "slow" } }), {
          status: 429,
          headers: { "Retry-After": "0" },
        })
        : Response.json({ success: true, usage: { count: 1 } }),
    );
  };
  await new DreamApi({ secretKey: "sk_test_x", fetch: limited }).usage.track("u");
  assert.equal(calls, 2);
  assert.ok(keys[0] && keys[0] === keys[1], "a retried track reuses its Idempotency-Key");

  calls = 0;
  const cartKeys: (string | null)[] = [];
  const failCart: typeof fetch = (_input, init) => {
    calls++;
    cartKeys.push(new Headers(init?.headers).get("Idempotency-Key"));
    return Promise.resolve(new Response("{}", { status: 502 }));
  };
  await assert.rejects(() =>
    new DreamApi({ secretKey: "sk_test_x", fetch: failCart }).cart.checkout({
      items: [],
      successUrl: "",
      cancelUrl: "",
    })
  );
  assert.ok(calls > 1, "a cart checkout is resent: its Idempotency-Key makes it hold stock once");
  assert.ok(cartKeys[0] && cartKeys.every((k) => k === cartKeys[0]), "with one key");

  calls = 0;
  const refusing: typeof fetch = () => {
    calls++;
    const error = { code: "payment_provider_error", message: "The payment provider refused: no" };
    return Promise.resolve(Response.json({ error }, { status: 502 }));
  };
  await assert.rejects(
    () => new DreamApi({ secretKey: "sk_test_x", fetch: refusing }).tiers(),
    (e) => e instanceof DreamApiError && e.code === "payment_provider_error",
  );
  assert.equal(calls, 1, "a refusal by the payment provider is not asked again");

  const hang: typeof fetch = (_i, init) =>
    new Promise((_, reject) =>
      init?.signal?.addEventListener(
        "abort",
        () => reject(new DOMException("aborted", "AbortError")),
      )
    );
  await assert.rejects(
    () =>
      new DreamApi({ secretKey: "sk_test_x", fetch: hang, timeoutMs: 30, maxRetries: 0 }).tiers(),
    (e) => e instanceof DreamApiError && e.code === "timeout",
  );
});

Deno.test("the SDK's types have exactly the fields /openapi.json documents", async () => {
  const { testApp } = await import("@/tests/helpers.ts");
  await using app = await testApp();
  const schemas = (await app.call("GET", "/openapi.json")).body.components.schemas;
  const usage: Usage = {
    userId: "",
    count: 0,
    usageCount: 0,
    limit: null,
    remaining: null,
    overage: 0,
    plan: "",
    periodStart: "",
    periodEnd: "",
  };
  const sub: Subscription = {
    id: "",
    tier: null,
    status: "",
    currentPeriodStart: "",
    currentPeriodEnd: "",
    cancelAtPeriodEnd: false,
  };
  const customer: Customer = {
    id: "",
    email: null,
    name: null,
    firstName: null,
    lastName: null,
    plan: null,
    metadata: {},
    createdAt: "",
    subscription: null,
    usage,
  };
  const tier: Tier = {
    name: "",
    displayName: "",
    price: 0,
    currency: "",
    interval: null,
    limit: null,
    trialDays: 0,
    overage: null,
    inventory: null,
    soldOut: false,
    features: [],
    popular: false,
    description: null,
    imageUrl: null,
    priceId: null,
    productId: null,
    archived: false,
  };
  const product: Product = {
    id: "",
    name: "",
    displayName: "",
    description: null,
    price: 0,
    currency: "",
    imageUrl: null,
    inventory: null,
    soldOut: false,
    priceId: null,
    productId: null,
  };
  const cart: CartInput = {
    email: "",
    name: "",
    items: [],
    successUrl: "",
    cancelUrl: "",
    promotionCode: "",
  };
  const checkout: CheckoutInput = { tier: "", successUrl: "", cancelUrl: "", promotionCode: "" };
  const pairs: [string, object][] = [
    ["Usage", usage],
    ["Subscription", sub],
    ["Customer", customer],
    ["Tier", tier],
    ["Product", product],
    ["CartInput", cart],
    ["CheckoutInput", checkout],
  ];
  for (const [name, sample] of pairs) {
    assert.deepEqual(
      Object.keys(sample).sort(),
      Object.keys(schemas[name].properties).sort(),
      name,
    );
  }
});
