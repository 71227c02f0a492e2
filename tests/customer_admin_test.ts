/** [e2e] A developer's actions on one customer: reset usage, cancel at period end or now; audited. */
import assert from "node:assert/strict";
import { developer, faultyKv, project, servePort, setsIn, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] customer admin: usage reset and subscription cancel (end of period, now), with actors", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const h = { "X-User-Id": "ann" };
  const track = () => srv.call("POST", "/api/data", { key: sk, headers: h });
  const act = (path: string, body?: unknown, key = dev.dat) =>
    srv.call("POST", `/v1/projects/${pk}/customers/ann/${path}`, { key, body });

  await t.step("reset: the count goes to 0 and the limit is open again", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await track()).status, 200);
    assert.equal((await track()).status, 429);
    const r = await act("usage/reset");
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.customer.usage.count, 0);
    assert.equal((await track()).status, 200);
    const u = await srv.call("GET", "/api/usage", { key: sk, headers: h });
    assert.equal(u.body.usage.count, 1);
  });

  await t.step(
    "refused: unknown customer 404, another developer 403, an sk 401, no subscription 404",
    async () => {
      const unknown = await srv.call("POST", `/v1/projects/${pk}/customers/nobody/usage/reset`, {
        key: dev.dat,
      });
      assert.equal(unknown.status, 404);
      const other = await developer(app);
      assert.equal((await act("usage/reset", undefined, other.dat)).status, 403);
      assert.equal((await act("usage/reset", undefined, sk)).status, 401);
      assert.equal((await act("subscription/cancel", {})).status, 404);
      assert.equal((await act("subscription/cancel", { atPeriodEnd: "yes" })).status, 422);
    },
  );

  await t.step("cancel at period end keeps the plan; cancel now ends it", async () => {
    const co = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: h,
      body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
    });
    assert.equal(co.status, 200, co.text);
    await srv.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
    const before = await srv.call("GET", "/api/customers/ann", { key: sk });
    assert.equal(before.body.customer.plan, "pro");
    const later = await act("subscription/cancel", { atPeriodEnd: true });
    assert.equal(later.status, 200, later.text);
    assert.equal(later.body.customer.plan, "pro");
    assert.equal(later.body.customer.subscription.cancelAtPeriodEnd, true);
    const page = await srv.call("GET", `/dashboard/projects/${pk}/customers/ann`, {
      headers: { Cookie: dev.cookie, Accept: "text/html" },
    });
    assert.match(page.text, /pro — active, cancels on \d{1,2} [A-Z][a-z]{2} \d{4}/);
    const now = await act("subscription/cancel", {});
    assert.equal(now.status, 200, now.text);
    assert.equal(now.body.customer.plan, "free");
    assert.equal(now.body.customer.subscription?.status ?? "canceled", "canceled");
    const dash = await srv.call("GET", "/api/dashboard", { key: sk });
    assert.equal(dash.body.activeSubscriptions, 0);
  });

  await t.step("the events show each action with its actor", async () => {
    const events = (await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat })).body
      .events as { type: string; summary: string; actor?: string }[];
    const mine = events.filter((e) => e.actor);
    const types = mine.map((e) => e.type);
    assert.ok(types.includes("customer.usage_reset"), types.join());
    assert.equal(types.filter((x) => x === "subscription.canceled").length, 2);
    assert.ok(mine.every((e) => /^token tok_/.test(e.actor!)), "acted with an access token");
  });

  await t.step("delete through the developer API, recorded as customer.deleted", async () => {
    const del = await srv.call("DELETE", `/v1/projects/${pk}/customers/ann`, { key: dev.dat });
    assert.equal(del.status, 200, del.text);
    assert.deepEqual(del.body, { deleted: true, id: "ann" });
    assert.equal((await srv.call("GET", "/api/customers/ann", { key: sk })).status, 404);
    const again = await srv.call("DELETE", `/v1/projects/${pk}/customers/ann`, { key: dev.dat });
    assert.equal(again.status, 404);
    const events = (await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat })).body
      .events as { type: string; actor?: string }[];
    assert.ok(
      events.some((e) => e.type === "customer.deleted" && e.actor?.startsWith("token tok_")),
    );
  });

  await t.step(
    "delete with the secret key (the developer's backend): recorded too, the key named by its prefix only",
    async () => {
      assert.equal(
        (await srv.call("POST", "/api/customers", { key: sk, body: { id: "bob" } })).status,
        201,
      );
      const del = await srv.call("DELETE", "/api/customers/bob", { key: sk });
      assert.equal(del.status, 200, del.text);
      const refused = await srv.call("DELETE", "/api/customers/bob", { key: sk });
      assert.equal(refused.status, 404, "a refused deletion records nothing");
      const events = (await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat })).body
        .events as { type: string; summary: string; actor?: string }[];
      const bob = events.filter((e) => e.type === "customer.deleted" && /bob/.test(e.summary));
      assert.equal(bob.length, 1, JSON.stringify(events));
      assert.equal(bob[0]!.actor, `secret key ${sk.slice(0, "sk_test_".length + 4)}…`);
      assert.ok(!JSON.stringify(events).includes(sk), "the secret key itself is never shown");
    },
  );
});

Deno.test("[e2e] customer search by id or email prefix: index kept on create, edit and delete; older customers backfilled", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {});
  const create = (id: string, email?: string) =>
    app.call("POST", "/api/customers", { key: sk, body: { id, ...(email ? { email } : {}) } });
  await create("alice_1", "alice@example.com");
  await create("alfred", "fred@corp.example");
  await create("bob", "al.bob@example.com");
  // a customer stored before the index existed (no index entry): found after the backfill
  const { getCustomer } = await import("@/lib/kv/customers.ts");
  const old = {
    ...(await getCustomer(app.kv, pk, "bob"))!,
    id: "olduser",
    email: "alma@old.example",
  };
  await app.kv.set(["customers", pk, "olduser"], old);
  const find = async (q: string) =>
    ((await app.call("GET", `/v1/projects/${pk}/customers?q=${encodeURIComponent(q)}`, {
      key: dev.dat,
    })).body.customers as { id: string }[]).map((c) => c.id).sort();
  assert.deepEqual(await find("al"), ["alfred", "alice_1", "bob", "olduser"]);
  assert.deepEqual(await find("ALICE@"), ["alice_1"]);
  assert.deepEqual(await find("fred@"), ["alfred"]);
  assert.deepEqual(await find("zzz"), []);
  // a search box left blank lists the customers as no `q` does
  const all = ((await app.call("GET", `/v1/projects/${pk}/customers`, { key: dev.dat })).body
    .customers as { id: string }[]).map((c) => c.id).sort();
  assert.ok(all.length >= 3);
  assert.deepEqual(await find(""), all);
  assert.deepEqual(await find("  "), all);
  await app.call("PATCH", "/api/customers/alice_1", {
    key: sk,
    body: { email: "zed@example.com" },
  });
  assert.deepEqual(await find("alice@"), []);
  assert.deepEqual(await find("zed"), ["alice_1"]);
  await app.call("DELETE", "/api/customers/alice_1", { key: sk });
  assert.deepEqual(await find("zed"), []);
  const page = await app.call("GET", `/dashboard/projects/${pk}/customers?q=fred`, {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.match(page.text, /alfred/);
  assert.doesNotMatch(page.text, /olduser/);
});

Deno.test("[e2e] the audit trail: key rotation, tier changes, settings and go-live, each with its actor", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {});
  const tok = (await app.call("GET", "/v1/tokens", { key: dev.dat })).body.tokens[0].id as string;
  const asToken = (method: string, path: string, body?: unknown) =>
    app.call(method, path, { key: dev.dat, ...(body ? { body } : {}) });
  const asSession = (method: string, path: string, body?: unknown) =>
    app.call(method, path, {
      headers: { Cookie: dev.cookie, Origin: "http://localhost" },
      ...(body ? { body } : {}),
    });
  assert.equal(
    (await asToken("POST", `/v1/projects/${pk}/keys/rotate`, { graceSeconds: 0 })).status,
    200,
  );
  assert.equal(
    (await asToken("POST", `/v1/projects/${pk}/tiers`, { name: "max", price: 9900, limit: 5000 }))
      .status,
    201,
  );
  assert.equal(
    (await asSession("PATCH", `/v1/projects/${pk}/tiers/max`, { archived: true })).status,
    200,
  );
  assert.equal(
    (await asSession("PATCH", `/v1/projects/${pk}/tiers/max`, { price: 9000 })).status,
    200,
  );
  assert.equal((await asSession("DELETE", `/v1/projects/${pk}/tiers/max`)).status, 200);
  assert.equal((await asSession("PATCH", `/v1/projects/${pk}`, { name: "Renamed" })).status, 200);
  const events = (await app.call("GET", `/v1/projects/${pk}/events?limit=50`, { key: dev.dat }))
    .body
    .events as { type: string; actor?: string; summary: string }[];
  const seen = events.filter((e) => e.actor).map((e) => [e.type, e.actor]).reverse();
  const me = `developer ${dev.platformId}`;
  assert.deepEqual(seen, [
    ["key.rotated", `token ${tok}`],
    ["tier.created", `token ${tok}`],
    ["tier.archived", me],
    ["tier.updated", me],
    ["tier.deleted", me],
    ["project.updated", me],
  ]);
  assert.match(events.find((e) => e.type === "key.rotated")!.summary, /stops now/);
  const live = await asToken("POST", `/v1/projects/${pk}/promote`, {});
  assert.equal(live.status, 201, live.text);
  const after = (await app.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat })).body.events;
  assert.equal(after[0].type, "project.promoted");
});

Deno.test("[e2e] the access-tokens page says so when there are none", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const h = { Cookie: dev.cookie, Accept: "text/html" };
  assert.doesNotMatch(
    (await app.call("GET", "/dashboard/tokens", { headers: h })).text,
    /No access tokens yet/,
  );
  const id = (await app.call("GET", "/v1/tokens", { key: dev.dat })).body.tokens[0].id;
  assert.equal((await app.call("DELETE", `/v1/tokens/${id}`, { key: dev.dat })).status, 200);
  const page = await app.call("GET", "/dashboard/tokens", { headers: h });
  assert.match(page.text, /No access tokens yet/);
  assert.match(page.text, /<meta name="description"/);
});

Deno.test("[e2e] events filtered by type, on the API and the Events page", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {});
  for (const name of ["a1", "a2", "a3"]) {
    await app.call("POST", `/v1/projects/${pk}/tiers`, {
      key: dev.dat,
      body: { name, price: 100, limit: 10 },
    });
  }
  await app.call("POST", `/v1/projects/${pk}/keys/rotate`, { key: dev.dat, body: {} });
  const list = (q: string) => app.call("GET", `/v1/projects/${pk}/events?${q}`, { key: dev.dat });
  const tiers = await list("type=tier.created&limit=2");
  assert.deepEqual(tiers.body.events.map((e: { type: string }) => e.type), [
    "tier.created",
    "tier.created",
  ]);
  const rest = await list(`type=tier.created&limit=2&cursor=${tiers.body.nextCursor}`);
  assert.equal(rest.body.events.length, 1);
  assert.equal((await list("type=key.rotated")).body.events.length, 1);
  assert.equal((await list("type=nope")).status, 422);
  // a filter left blank lists every type, as no filter does
  assert.deepEqual((await list("type=")).body.events, (await list("")).body.events);
  const page = await app.call("GET", `/dashboard/projects/${pk}/events?type=key.rotated`, {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.match(page.text, /secret key rotated/);
  assert.doesNotMatch(page.text, /tier a1 added/);
});

Deno.test("[e2e] the customer list pages forward and back with its position in the total", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {});
  for (let i = 0; i < 60; i++) {
    await app.call("POST", "/api/customers", {
      key: sk,
      body: { id: `p${String(i).padStart(2, "0")}` },
    });
  }
  const h = { Cookie: dev.cookie, Accept: "text/html" };
  const get = (url: string) => app.call("GET", url.replaceAll("&amp;", "&"), { headers: h });
  const link = (html: string, rel: string) =>
    html.match(new RegExp(`<a href="([^"]+)" rel="${rel}"`))?.[1];
  const p1 = await get(`/dashboard/projects/${pk}/customers`);
  assert.match(p1.text, /1–25 of 60/);
  assert.equal(link(p1.text, "prev"), undefined);
  const p2 = await get(link(p1.text, "next")!);
  assert.match(p2.text, /26–50 of 60/);
  assert.match(p2.text, />p25</);
  const p3 = await get(link(p2.text, "next")!);
  assert.match(p3.text, /51–60 of 60/);
  assert.equal(link(p3.text, "next"), undefined);
  const back2 = await get(link(p3.text, "prev")!);
  assert.match(back2.text, /26–50 of 60/);
  const back1 = await get(link(back2.text, "prev")!);
  assert.match(back1.text, /1–25 of 60/);
  assert.match(back1.text, />p00</);
});

const HISTORY_FOLDS = [["per-key tallies", {}], ["tally buckets", { usageBucketAt: 1 }]] as const;
for (const [how, config] of HISTORY_FOLDS) {
  Deno.test(`[e2e] a customer's usage history: one exact count per billing period, on the API and the page (folds into ${how})`, async () => {
    await using app = await testApp({ config });
    const dev = await developer(app);
    const { pk, sk } = await project(app, dev.dat, {
      tiers: [{ name: "free", price: 0, limit: 50 }],
    });
    const track = (quantity: number) =>
      app.call("POST", "/api/data", {
        key: sk,
        headers: { "X-User-Id": "ann" },
        body: { quantity },
      });
    assert.equal((await track(3)).status, 200); // November
    await app.services.meter.flush(pk); // folded into the counters
    let buckets = 0;
    for await (const _ of app.kv.list({ prefix: ["usage_bucket", pk] })) buckets++;
    assert.equal(buckets, how === "tally buckets" ? 1 : 0, `folded into ${how}`);
    app.clock.set("2026-12-01T09:00:00.000Z"); // a week on: the session still holds
    assert.equal((await track(5)).status, 200); // December, in the log only
    assert.equal((await track(2)).status, 200);
    const r = await app.call("GET", `/v1/projects/${pk}/customers/ann/usage/history`, {
      key: dev.dat,
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.periods, [
      { periodStart: "2026-11-01T00:00:00.000Z", count: 3 },
      { periodStart: "2026-12-01T00:00:00.000Z", count: 7 },
    ]);
    const none = await app.call("GET", `/v1/projects/${pk}/customers/bob/usage/history`, {
      key: dev.dat,
    });
    assert.equal(none.status, 404);
    const page = await app.call("GET", `/dashboard/projects/${pk}/customers/ann`, {
      headers: { Cookie: dev.cookie, Accept: "text/html" },
    });
    assert.equal(page.status, 200, `${page.status} ${page.headers.get("location")}`);
    assert.match(page.text, /Usage per billing period/);
    assert.match(page.text, /data-testid="period-usage-2026-11-01"[^>]*>3</);
    assert.match(page.text, /data-testid="period-usage-2026-12-01"[^>]*>7</);
    // deleting the customer deletes its usage, folded or not: the same id starts from zero
    assert.equal((await app.call("DELETE", "/api/customers/ann", { key: sk })).status, 200);
    const again = await track(1);
    assert.equal(again.status, 200, again.text);
    assert.equal(again.body.usage.count, 1);
    await app.services.meter.flush(pk);
    const fresh = await app.call("GET", `/v1/projects/${pk}/customers/ann/usage/history`, {
      key: dev.dat,
    });
    assert.deepEqual(fresh.body.periods, [{ periodStart: "2026-12-01T00:00:00.000Z", count: 1 }]);
  });
}

Deno.test("[e2e] usage history lists a past period still in the log; a usage reset empties only the current period", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 50 }, { name: "pro", price: 1900, limit: 100 }],
  });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  const track = (quantity: number) =>
    app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "ann" }, body: { quantity } });
  const history = async () =>
    (await app.call("GET", `/v1/projects/${pk}/customers/ann/usage/history`, { key: dev.dat }))
      .body.periods;
  const count = async () =>
    (await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "ann" } })).body.usage
      .count;
  const reset = () =>
    app.call("POST", `/v1/projects/${pk}/customers/ann/usage/reset`, { key: dev.dat });
  const NOV = "2026-11-01T00:00:00.000Z";
  const DEC = "2026-12-01T00:00:00.000Z";

  assert.equal((await track(3)).status, 200); // November, left in the log (no fold)
  app.clock.set("2026-12-03T09:00:00.000Z");
  assert.equal((await track(2)).status, 200);
  assert.deepEqual(await history(), [
    { periodStart: NOV, count: 3 },
    { periodStart: DEC, count: 2 },
  ]);
  assert.equal((await reset()).status, 200);
  assert.equal(await count(), 0);
  assert.deepEqual(await history(), [
    { periodStart: NOV, count: 3 },
    { periodStart: DEC, count: 0 },
  ], "November keeps its count");
  await app.services.meter.flush(pk);
  assert.deepEqual((await history()).map((p: { count: number }) => p.count), [3, 0], "folded");

  // on a subscription, the reset empties the subscription's period; the month's free usage
  // from before it stays, and counts again once the subscription ends
  assert.equal((await track(2)).status, 200);
  const co = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "ann" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  await app.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
  assert.equal((await track(4)).status, 200);
  assert.equal(await count(), 4);
  assert.equal((await reset()).status, 200);
  assert.equal(await count(), 0);
  const end = await app.call("POST", `/v1/projects/${pk}/customers/ann/subscription/cancel`, {
    key: dev.dat,
    body: { atPeriodEnd: false },
  });
  assert.equal(end.status, 200, end.text);
  assert.equal(await count(), 2, "back on free: December's free usage");
});

Deno.test("[e2e] an audit entry the store fails to write never makes a done action answer as failed", async () => {
  const faults = await faultyKv();
  const auditEntries = setsIn(
    "project_events",
    (v) => String((v as { id?: string }).id).startsWith("act_"),
  );
  const kv = faults.kv;
  await using app = await testApp({ kv, config: { webhookAllowPrivate: true } });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {});
  const types = async () =>
    (await app.call("GET", `/v1/projects/${pk}/events?limit=50`, { key: dev.dat })).body.events
      .filter((e: { actor?: string }) => e.actor).map((e: { type: string }) => e.type);
  const works = async (key: string) =>
    (await app.call("GET", "/api/usage", { key, headers: { "X-User-Id": "u1" } })).status;

  // a store failing for a moment: the entry is written on a later try, once
  faults.failCommits(auditEntries, 2);
  const rotated = await app.call("POST", `/v1/projects/${pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 0 },
  });
  assert.equal(rotated.status, 200, rotated.text);
  assert.equal(faults.armed, 0);
  assert.deepEqual(await types(), ["key.rotated"]);
  assert.deepEqual([await works(rotated.body.secretKey), await works(sk)], [200, 401]);

  // a store that keeps failing: the action still answers what it did (the new key, shown once,
  // is not lost), and the missing entry is logged
  faults.failCommits(auditEntries, Infinity);
  const again = await app.call("POST", `/v1/projects/${pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 0 },
  });
  assert.equal(again.status, 200, again.text);
  assert.deepEqual([await works(again.body.secretKey), await works(rotated.body.secretKey)], [
    200,
    401,
  ]);
  const hook = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: "http://127.0.0.1:9/in" },
  });
  assert.equal(hook.status, 201, hook.text);
  assert.match(hook.body.secret, /^whsec_/);
  const live = await app.call("POST", `/v1/projects/${pk}/promote`, { key: dev.dat, body: {} });
  assert.equal(live.status, 201, live.text);
  assert.equal(await works(live.body.secretKey), 200);
  faults.heal();
  assert.deepEqual(await types(), ["key.rotated"]);
  const missing = app.logs.lines.filter((l) => l.msg === "audit entry not recorded");
  assert.deepEqual(missing.map((l) => l.fields?.type), [
    "key.rotated",
    "webhook_endpoint.created",
    "project.promoted",
  ]);
});
