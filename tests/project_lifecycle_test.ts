/** [e2e] Deleting a project: keys stop at once, undo within 30 days, purge after; audited. */
import assert from "node:assert/strict";
import { developer, project, subscribe, testApp } from "@/tests/helpers.ts";
import { purgeDeletedProjects } from "@/lib/projects/lifecycle.ts";
import { runWebhooks } from "@/lib/outbound/deliver.ts";

Deno.test("[e2e] project delete: keys stop at once, restore brings them back, the purge removes every trace", async (t) => {
  await using app = await testApp();
  const dev = await developer(app);
  const test = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  const promoted = await app.call("POST", `/v1/projects/${test.pk}/promote`, {
    key: dev.dat,
    body: {},
  });
  assert.equal(promoted.status, 201, promoted.text);
  const livePk: string = promoted.body.publishableKey;
  const liveSk: string = promoted.body.secretKey;
  const other = await project(app, dev.dat, { name: "Kept" });
  // an endpoint with a delivery waiting: the purge takes those too
  await app.call("POST", `/v1/projects/${test.pk}/webhooks`, {
    key: dev.dat,
    body: { url: "https://93.184.215.14/hooks" },
  });
  const h = { "X-User-Id": "ann" };
  for (const sk of [test.sk, liveSk, other.sk]) {
    assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 200);
  }

  await t.step("delete: both twins, the keys are 401 at once, tiers by pk too", async () => {
    const stranger = await developer(app);
    assert.equal(
      (await app.call("DELETE", `/v1/projects/${test.pk}`, { key: stranger.dat })).status,
      403,
    );
    const r = await app.call("DELETE", `/v1/projects/${livePk}`, { key: dev.dat });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.body.projects.map((p: { publishableKey: string }) => p.publishableKey).sort(),
      [
        livePk,
        test.pk,
      ].sort(),
    );
    for (const p of r.body.projects) {
      assert.equal(p.deletedAt, "2026-11-24T12:00:00.000Z");
      assert.equal(p.purgeAt, "2026-12-24T12:00:00.000Z");
    }
    for (const sk of [test.sk, liveSk]) {
      const u = await app.call("GET", "/api/usage", { key: sk, headers: h });
      assert.equal(u.status, 401, u.text);
      assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 401);
    }
    assert.equal((await app.call("GET", "/api/tiers", { key: test.pk })).status, 401);
    // the developer still sees it (to restore it), but cannot change it
    const read = await app.call("GET", `/v1/projects/${test.pk}`, { key: dev.dat });
    assert.equal(read.body.project.purgeAt, "2026-12-24T12:00:00.000Z");
    const rename = await app.call("PATCH", `/v1/projects/${test.pk}`, {
      key: dev.dat,
      body: { name: "x" },
    });
    assert.equal(rename.status, 409);
    assert.equal(
      (await app.call("DELETE", `/v1/projects/${test.pk}`, { key: dev.dat })).status,
      409,
    );
    // others untouched
    assert.equal((await app.call("POST", "/api/data", { key: other.sk, headers: h })).status, 200);
  });

  await t.step("restore within 30 days: the same keys and data work again", async () => {
    app.clock.advance(29 * 86_400_000);
    assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 0 });
    const r = await app.call("POST", `/v1/projects/${test.pk}/restore`, { key: dev.dat });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.projects.length, 2);
    assert.ok(r.body.projects.every((p: { deletedAt: null }) => p.deletedAt === null));
    const u = await app.call("GET", "/api/customers/ann", { key: liveSk });
    assert.equal(u.status, 200, u.text);
    assert.equal((await app.call("POST", "/api/data", { key: test.sk, headers: h })).status, 200);
    assert.equal(
      (await app.call("POST", `/v1/projects/${test.pk}/restore`, { key: dev.dat })).status,
      409,
    );
    const events = await app.call("GET", `/v1/projects/${test.pk}/events?type=project.restored`, {
      key: dev.dat,
    });
    assert.equal(events.body.events.length, 1, events.text);
    assert.match(events.body.events[0].summary, /^project restored by token tok_/);
    const deleted = await app.call("GET", `/v1/projects/${livePk}/events?type=project.deleted`, {
      key: dev.dat,
    });
    assert.equal(deleted.body.events.length, 1);
  });

  await t.step("after 30 days the purge leaves nothing that names the project", async () => {
    await app.call("DELETE", `/v1/projects/${test.pk}`, { key: dev.dat });
    app.clock.advance(30 * 86_400_000);
    assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 2 });
    // a due entry left from before the purge goes at the worker's next pass
    await runWebhooks(app.services);
    const left: string[] = [];
    for await (const e of app.kv.list({ prefix: [] })) {
      // the payment provider's own objects (the sandbox's "Stripe account") stay the merchant's
      if (e.key[0] === "sandbox") continue;
      if (e.key.some((k) => k === test.pk || k === livePk)) left.push(JSON.stringify(e.key));
      const v = JSON.stringify(e.value, (_, x) => typeof x === "bigint" ? String(x) : x) ?? "";
      if (v.includes(test.pk) || v.includes(livePk)) left.push(`value of ${JSON.stringify(e.key)}`);
    }
    assert.deepEqual(left, []);
    assert.equal((await app.call("GET", `/v1/projects/${test.pk}`, { key: dev.dat })).status, 404);
    assert.equal((await app.call("GET", "/api/usage", { key: test.sk, headers: h })).status, 401);
    assert.equal((await app.call("POST", "/api/data", { key: other.sk, headers: h })).status, 200);
  });
});

Deno.test("[e2e] the purge ends a deleted project's subscriptions at the provider first, waiting a week at most for it", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 5 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const subs = [await subscribe(app, sk, "payer"), await subscribe(app, sk, "leaver")];
  assert.equal(
    (await app.call("POST", "/api/subscription/cancel", {
      key: sk,
      headers: { "X-User-Id": "leaver" }, // set to end at period end: still billing till then
    })).status,
    200,
  );
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "freeloader" } });
  assert.equal((await app.call("DELETE", `/v1/projects/${pk}`, { key: dev.dat })).status, 200);

  // the provider fails: the purge waits for it (a week at most)
  const payments = app.services.payments;
  const cancel = payments.cancelSubscription.bind(payments);
  const asked: string[] = [];
  let down = true;
  payments.cancelSubscription = (acct, id, o) => {
    asked.push(id);
    return down ? Promise.reject(new Error("provider unreachable")) : cancel(acct, id, o);
  };
  app.clock.advance(30 * 86_400_000);
  assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 0 });
  assert.deepEqual(asked.sort(), [...subs].sort());
  down = false;
  app.clock.advance(3_600_000);
  assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 1 });
  // the sandbox's retrieve ignores the account: the subscriptions as the provider holds them
  const acct = { accountId: null, mode: "test" as const };
  for (const id of subs) {
    assert.equal((await payments.retrieveSubscription(acct, id)).status, "canceled", id);
  }
  assert.equal(asked.length, 4, "each subscription ended once");

  // a provider down for good holds a purge back a week, no longer
  const other = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 5 }, { name: "pro", price: 1900, limit: 100 }],
  });
  await subscribe(app, other.sk, "stuck");
  assert.equal(
    (await app.call("DELETE", `/v1/projects/${other.pk}`, { key: dev.dat })).status,
    200,
  );
  down = true;
  app.clock.advance(36 * 86_400_000);
  assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 0 });
  app.clock.advance(2 * 86_400_000);
  assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 1 });
});

Deno.test("[e2e] deleting a project expires its open checkouts and unpaid carts; restored, it sells again", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const saas = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 5 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 3 }],
  });
  const urls = { successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };
  const co = await app.call("POST", "/api/create-checkout", {
    key: saas.sk,
    headers: { "X-User-Id": "late" },
    body: { tier: "pro", ...urls },
  });
  const mug = (await app.call("GET", "/api/products", { key: store.pk })).body.products[0];
  const cart = await app.call("POST", "/api/cart/checkout", {
    key: store.pk,
    body: { items: [{ productId: mug.id, quantity: 2 }], ...urls },
  });
  for (const p of [saas.pk, store.pk]) {
    assert.equal((await app.call("DELETE", `/v1/projects/${p}`, { key: dev.dat })).status, 200);
  }
  for (const url of [co.body.url, cart.body.url]) {
    const paid = await app.call("POST", new URL(url).pathname + "/complete", { body: {} });
    assert.equal(paid.status, 409, paid.text);
  }
  for (const p of [saas.pk, store.pk]) {
    assert.equal(
      (await app.call("POST", `/v1/projects/${p}/restore`, { key: dev.dat })).status,
      200,
    );
  }
  assert.equal(
    (await app.call("GET", "/api/products", { key: store.pk })).body.products[0].inventory,
    3,
    "the expired cart's stock is back",
  );
  assert.match(await subscribe(app, saas.sk, "late"), /^sub_/);
});
