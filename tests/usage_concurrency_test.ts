/** [e2e] exactness of POST /api/data under concurrency, across instances, and across periods. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { getCustomer } from "@/lib/kv/customers.ts";

const TIERS = [{ name: "free", price: 0, limit: 50 }];

Deno.test("[e2e] 200 concurrent POST /api/data at limit 50: exactly 50 accepted, count 50", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: TIERS });
  const res = await Promise.all(
    Array.from(
      { length: 200 },
      () => srv.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "hot" } }),
    ),
  );
  assert.equal(res.filter((r) => r.status === 200).length, 50);
  assert.equal(
    res.filter((r) => r.status === 429 && r.body.error.code === "tier_limit_reached").length,
    150,
  );
  const counts = res.filter((r) => r.status === 200).map((r) => r.body.usage.count).sort((a, b) =>
    a - b
  );
  assert.deepEqual(
    counts,
    Array.from({ length: 50 }, (_, i) => i + 1),
    "every accepted call got its own count",
  );
  const u = await srv.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "hot" } });
  assert.equal(u.body.usage.count, 50);
  assert.ok(
    app.services.meter.commits < 60,
    `group commit used ${app.services.meter.commits} commits`,
  );
});

Deno.test("[e2e] two app instances sharing one KV never pass the limit", async () => {
  await using a = await testApp();
  await using b = await testApp({ kv: a.kv, clock: a.clock });
  await using srvA = servePort(a);
  await using srvB = servePort(b);
  const dev = await developer(a);
  const { sk, pk } = await project(a, dev.dat, { tiers: TIERS });
  // both instances warm their caches for the customer first
  assert.equal(
    (await srvA.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "shared" } })).status,
    200,
  );
  assert.equal(
    (await srvB.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "shared" } })).status,
    200,
  );
  const res = await Promise.all(
    Array.from(
      { length: 200 },
      (_, i) =>
        (i % 2 ? srvA : srvB).call("POST", "/api/data", {
          key: sk,
          headers: { "X-User-Id": "shared" },
        }),
    ),
  );
  assert.equal(res.filter((r) => r.status === 200).length, 48);
  const u = await srvB.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "shared" } });
  assert.equal(u.body.usage.count, 50);
  // auto-creation raced across instances but made one customer
  assert.ok(await getCustomer(a.kv, pk, "shared"));
  const dash = await srvA.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.customers, 1);
  assert.equal(dash.body.usageThisPeriod, 50);
});

Deno.test("[e2e] concurrent idempotent retries count once", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: TIERS });
  const h = { "X-User-Id": "retry", "Idempotency-Key": "same-key" };
  const res = await Promise.all(
    Array.from(
      { length: 20 },
      () => app.call("POST", "/api/data", { key: sk, headers: h, body: { quantity: 5 } }),
    ),
  );
  assert.ok(res.every((r) => r.status === 200));
  assert.ok(res.every((r) => r.body.usage.count === 5));
  const u = await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "retry" } });
  assert.equal(u.body.usage.count, 5);
});

Deno.test("[e2e] concurrent idempotent retries of a customer already cached (the hot path) count once", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: TIERS });
  const warm = await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "warm" } });
  assert.equal(warm.body.usage.count, 1);
  const h = { "X-User-Id": "warm", "Idempotency-Key": "same-key" };
  const res = await Promise.all(
    Array.from(
      { length: 20 },
      () => app.call("POST", "/api/data", { key: sk, headers: h, body: { quantity: 5 } }),
    ),
  );
  assert.ok(res.every((r) => r.status === 200), JSON.stringify(res.map((r) => r.status)));
  assert.ok(res.every((r) => r.body.usage.count === 6));
  assert.equal(res.filter((r) => r.headers.get("idempotent-replayed") === "true").length, 19);
  const u = await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "warm" } });
  assert.equal(u.body.usage.count, 6);
});

Deno.test("[e2e] usage rolls over to a new period with the calendar month (injected clock)", async () => {
  await using app = await testApp();
  app.clock.set("2026-11-30T23:59:59.000Z");
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 2 }] });
  const h = { "X-User-Id": "monthly" };
  assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 200);
  const second = await app.call("POST", "/api/data", { key: sk, headers: h });
  assert.equal(second.body.usage.count, 2);
  assert.equal(second.body.usage.periodEnd, "2026-12-01T00:00:00.000Z");
  assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 429);
  app.clock.set("2026-12-01T00:00:00.000Z");
  const fresh = await app.call("POST", "/api/data", { key: sk, headers: h });
  assert.equal(fresh.status, 200);
  assert.equal(fresh.body.usage.count, 1);
  assert.equal(fresh.body.usage.periodStart, "2026-12-01T00:00:00.000Z");
  assert.equal(fresh.body.usage.periodEnd, "2027-01-01T00:00:00.000Z");
  const dash = await app.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.usageThisPeriod, 1);
});
