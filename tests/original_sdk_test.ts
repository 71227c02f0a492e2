/**
 * [e2e] Drop-in for the original dream-api SDK: the published `@dream-api/sdk@0.1.38`, pointed
 * at this server with `baseUrl`, drives customers, usage (with our customer token and with a
 * Clerk session token of the developer's app), checkout, the store cart and the dashboard.
 */
import assert from "node:assert/strict";
import { DreamAPI, DreamAPIException } from "@dream-api/sdk";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { getCustomer } from "@/lib/kv/customers.ts";
import { DreamApi } from "../sdk/src/index.ts";

const urls = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };

async function clerkKeys() {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const mint = (claims: Record<string, unknown>, key = privateKey) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: "sess_1", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "ins_app" })
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + 60)
      .sign(key);
  };
  return { jwtKey: await exportSPKI(publicKey), mint, privateKey };
}

/** The original SDK logs its mode with console.log; keep the test output clean. */
function quietly<T>(f: () => T): T {
  // deno-lint-ignore no-console
  const log = console.log;
  // deno-lint-ignore no-console
  console.log = () => {};
  try {
    return f();
  } finally {
    // deno-lint-ignore no-console
    console.log = log;
  }
}

Deno.test("[e2e] the original @dream-api/sdk 0.1.38 works against this server", async (t) => {
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
  const api = quietly(() =>
    new DreamAPI({ secretKey: saas.sk, publishableKey: saas.pk, baseUrl: srv.base })
  );
  let id = "";

  await t.step(
    "customers: create with first and last names, get, update, password never stored",
    async () => {
      const { customer } = await api.customers.create({
        email: "Ada@Example.com",
        firstName: "Ada",
        lastName: "Lovelace",
        plan: "free",
        password: "not kept anywhere",
      });
      id = customer.id;
      assert.equal(customer.firstName, "Ada");
      assert.equal(customer.lastName, "Lovelace");
      assert.equal(customer.plan, "free");
      assert.equal((customer as unknown as { name: string }).name, "Ada Lovelace");
      assert.equal((await getCustomer(app.kv, saas.pk, id))!.passwordHash, null);
      assert.equal((await api.customers.get(id)).customer.email, "ada@example.com");
      assert.equal((await api.customers.update(id, { plan: "free" })).customer.plan, "free");
      // a paid plan can't be given: it comes from checkout
      await assert.rejects(
        () => api.customers.update(id, { plan: "pro" }),
        (e) => e instanceof DreamAPIException && e.status === 422 && /paid/.test(e.message),
      );
    },
  );

  await t.step(
    "usage with our customer token in X-Clerk-Token: userId and usageCount",
    async () => {
      const minted = await srv.call("POST", `/api/customers/${id}/token`, { key: saas.sk });
      api.setUserToken(minted.body.token);
      const first = await api.usage.track();
      assert.equal(first.success, true);
      assert.equal(first.usage.userId, id);
      assert.equal(first.usage.usageCount, 1);
      const checked = await api.usage.check();
      assert.equal(checked.usageCount, 1);
      assert.equal(checked.userId, id);
      await api.usage.track();
      await api.usage.track();
      // the original answered 403 at the limit; this server answers 429 tier_limit_reached, and
      // the top-level message gives the SDK's exception its sentence
      await assert.rejects(
        () => api.usage.track(),
        (e) => e instanceof DreamAPIException && e.status === 429 && /limit/i.test(e.message),
      );
    },
  );

  await t.step("checkout and portal through the SDK", async () => {
    const checkout = await api.billing.createCheckout({ tier: "pro", ...urls });
    assert.match(checkout.url, /^http/);
    const portal = await api.billing.openPortal({ returnUrl: "https://app.example/account" });
    assert.match(portal.url, /^http/);
    api.clearUserToken();
  });

  await t.step("X-Publishable-Key next to a secret key must name the same project", async () => {
    const mixed = quietly(() =>
      new DreamAPI({ secretKey: saas.sk, publishableKey: store.pk, baseUrl: srv.base })
    );
    await assert.rejects(
      () => mixed.customers.get(id),
      (e) => e instanceof DreamAPIException && e.status === 403,
    );
  });

  await t.step(
    "frontend-only (X-Publishable-Key alone): tiers, products, cart by priceId with a name",
    async () => {
      const pricing = quietly(() => new DreamAPI({ publishableKey: saas.pk, baseUrl: srv.base }));
      const { tiers } = await pricing.products.listTiers();
      assert.deepEqual(tiers.map((x) => x.name), ["free", "pro"]);
      const shop = quietly(() => new DreamAPI({ publishableKey: store.pk, baseUrl: srv.base }));
      const { products } = await shop.products.list();
      assert.equal(products.length, 1);
      const out = await shop.products.cartCheckout({
        items: [{ priceId: products[0]!.priceId, quantity: 2 }],
        customerEmail: "buyer@example.com",
        customerName: "Grace Hopper",
        ...urls,
      });
      assert.match(out.url, /^http/);
      const rid = (out as unknown as { reservationId: string }).reservationId;
      const held = await app.kv.get<{ name: string; email: string }>([
        "reservations",
        store.pk,
        rid,
      ]);
      assert.equal(held.value?.name, "Grace Hopper");
      assert.equal(held.value?.email, "buyer@example.com");
      const after = await shop.products.list();
      assert.equal(after.products[0]!.inventory, 3);
      // a secret-key call still needs the secret key
      await assert.rejects(
        () => shop.customers.get(id),
        (e) => e instanceof DreamAPIException && e.status === 403,
      );
    },
  );

  await t.step("dashboard and totals over the developer's projects in the key's mode", async () => {
    const metrics = await api.dashboard.get() as unknown as Record<string, unknown>;
    assert.equal(metrics.type, "saas");
    assert.equal(metrics.customers, 1);
    const totals = await api.dashboard.getTotals() as unknown as Record<string, unknown>;
    assert.equal(totals.projects, 2);
    assert.equal(totals.customers, 1);
    assert.equal(totals.mode, "test");
    for (const k of ["activeSubscriptions", "mrr", "sales", "revenue"]) {
      assert.equal(typeof totals[k], "number", k);
    }
    // another developer's projects are not counted
    const other = await developer(app);
    const theirs = await project(app, other.dat, {});
    const t2 = await srv.call("GET", "/api/dashboard/totals", { key: theirs.sk });
    assert.equal(t2.body.projects, 1);
    assert.equal(t2.body.customers, 0);
  });

  await t.step("customers.delete", async () => {
    await api.customers.delete(id);
    await assert.rejects(
      () => api.customers.get(id),
      (e) => e instanceof DreamAPIException && e.status === 404 && /No customer/.test(e.message),
    );
  });
});

Deno.test("[e2e] end-user sign-in: a Clerk session token of the developer's app names the customer", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const saas = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 2 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const clerk = await clerkKeys();
  const patch = (body: unknown) =>
    app.call("PATCH", `/v1/projects/${saas.pk}`, { key: dev.dat, body });

  await t.step(
    "settings are validated: a PEM that is not an RSA key is 422 and changes nothing",
    async () => {
      const bad = await patch({ endUserAuth: { jwtKey: "not a key" } });
      assert.equal(bad.status, 422);
      const garbage = "-----BEGIN PUBLIC KEY-----\n" + "A".repeat(200) +
        "\n-----END PUBLIC KEY-----";
      assert.equal((await patch({ endUserAuth: { jwtKey: garbage } })).status, 422);
      const read = await app.call("GET", `/v1/projects/${saas.pk}`, { key: dev.dat });
      assert.equal(read.body.project.endUserAuth, null);
    },
  );

  const ok = await patch({
    endUserAuth: { jwtKey: clerk.jwtKey, authorizedParties: ["https://app.example"] },
  });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.project.endUserAuth.jwtKey, clerk.jwtKey.trim());

  await t.step(
    "the original SDK in a browser: pk + Clerk token; the customer is made on first sight",
    async () => {
      const browser = quietly(() => new DreamAPI({ publishableKey: saas.pk, baseUrl: srv.base }));
      browser.setUserToken(
        await clerk.mint({
          sub: "user_2clerk",
          email: "Kim@Example.com",
          azp: "https://app.example",
        }),
      );
      const { usage } = await browser.usage.track();
      assert.equal(usage.userId, "user_2clerk");
      assert.equal(usage.usageCount, 1);
      const saved = await getCustomer(app.kv, saas.pk, "user_2clerk");
      assert.equal(saved?.email, "kim@example.com");
      const checkout = await browser.billing.createCheckout({ tier: "pro", ...urls });
      assert.match(checkout.url, /^http/);
    },
  );

  await t.step(
    "next to a secret key, X-Clerk-Token names the customer (X-User-Id must agree)",
    async () => {
      const server = quietly(() =>
        new DreamAPI({ secretKey: saas.sk, publishableKey: saas.pk, baseUrl: srv.base })
      );
      server.setUserToken(await clerk.mint({ sub: "user_2clerk", azp: "https://app.example" }));
      assert.equal((await server.usage.check()).usageCount, 1);
      const tok = await clerk.mint({ sub: "user_2clerk", azp: "https://app.example" });
      const disagree = await srv.call("GET", "/api/usage", {
        key: saas.sk,
        headers: { "X-Clerk-Token": tok, "X-User-Id": "someone_else" },
      });
      assert.equal(disagree.status, 403);
      assert.equal(disagree.body.message, disagree.body.error.message);
    },
  );

  await t.step(
    "forged, foreign-party and other-project tokens are 401 and create nothing",
    async () => {
      const { privateKey: other } = await generateKeyPair("RS256", { extractable: true });
      const cases = [
        await clerk.mint({ sub: "user_forged", azp: "https://app.example" }, other),
        await clerk.mint({ sub: "user_evilazp", azp: "https://evil.example" }),
        "not.a.jwt",
      ];
      for (const tok of cases) {
        const res = await srv.call("POST", "/api/data", {
          headers: { "X-Publishable-Key": saas.pk, "X-Clerk-Token": tok },
        });
        assert.equal(res.status, 401, tok);
        assert.equal(typeof res.body.message, "string");
      }
      assert.equal(await getCustomer(app.kv, saas.pk, "user_forged"), null);
      assert.equal(await getCustomer(app.kv, saas.pk, "user_evilazp"), null);
      // a project without end-user sign-in does not take Clerk tokens
      const plain = await project(app, dev.dat, {});
      const res = await srv.call("GET", "/api/usage", {
        headers: {
          "X-Publishable-Key": plain.pk,
          "X-Clerk-Token": await clerk.mint({ sub: "user_2clerk", azp: "https://app.example" }),
        },
      });
      assert.equal(res.status, 401);
    },
  );

  await t.step("turning it off (null) stops Clerk tokens at once", async () => {
    assert.equal((await patch({ endUserAuth: null })).status, 200);
    const res = await srv.call("GET", "/api/usage", {
      headers: {
        "X-Publishable-Key": saas.pk,
        "X-Clerk-Token": await clerk.mint({ sub: "user_2clerk", azp: "https://app.example" }),
      },
    });
    assert.equal(res.status, 401);
  });
});

Deno.test("[e2e] the original SDK and ours side by side against one server", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const saas = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 10 }],
  });
  const theirs = quietly(() => new DreamAPI({ secretKey: saas.sk, baseUrl: srv.base }));
  const ours = new DreamApi({ secretKey: saas.sk, baseUrl: srv.base });
  const { customer } = await theirs.customers.create({ email: "both@example.com", firstName: "B" });
  await ours.usage.track(customer.id, { quantity: 3 });
  const token = await ours.customers.token(customer.id);
  theirs.setUserToken(token.token);
  await theirs.usage.track();
  assert.equal((await ours.usage.get(customer.id)).usageCount, 4);
  const edited = await ours.customers.update(customer.id, {
    lastName: "Both",
    metadata: { a: "1" },
  });
  assert.equal(edited.name, "B Both");
  assert.equal((await theirs.customers.get(customer.id)).customer.lastName, "Both");
  const totals = await ours.dashboardTotals();
  assert.equal(totals.customers, 1);
});
