/** [e2e] Overage: calls past the limit are accepted and counted up to the cap, exactly. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] 200 concurrent calls at limit 50 with overage cap 20: exactly 70 accepted, 20 as overage", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 50, overage: { unitAmount: 2, per: 10, cap: 20 } }],
  });
  const h = { "X-User-Id": "heavy" };
  const res = await Promise.all(
    Array.from({ length: 200 }, () => srv.call("POST", "/api/data", { key: sk, headers: h })),
  );
  const ok = res.filter((r) => r.status === 200);
  assert.equal(ok.length, 70);
  assert.equal(
    res.filter((r) => r.status === 429 && r.body.error.code === "tier_limit_reached").length,
    130,
  );
  assert.deepEqual(
    ok.map((r) => r.body.usage.count).sort((a, b) => a - b),
    Array.from({ length: 70 }, (_, i) => i + 1),
  );
  const past = ok.filter((r) => r.body.usage.count > 50);
  assert.ok(past.every((r) => r.body.usage.remaining === 0 && r.body.usage.overage > 0));
  const u = await srv.call("GET", "/api/usage", { key: sk, headers: h });
  assert.deepEqual(
    { count: u.body.usage.count, overage: u.body.usage.overage, remaining: u.body.usage.remaining },
    { count: 70, overage: 20, remaining: 0 },
  );
  const refused = res.find((r) => r.status === 429)!;
  assert.match(refused.body.error.message, /20 past it as overage/);
  // the tier shows its overage terms; a tier without a limit can't have overage
  const tiers = await srv.call("GET", `/v1/projects/${pk}/tiers`, { key: dev.dat });
  assert.deepEqual(tiers.body.tiers[0].overage, { unitAmount: 2, per: 10, cap: 20 });
  const bad = await srv.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "unl", price: 900, limit: null, overage: { unitAmount: 1 } },
  });
  assert.equal(bad.status, 422, bad.text);
  assert.equal(bad.body.error.details[0].field, "overage");
});

Deno.test("[e2e] overage without a cap: every call past the limit is accepted and counted", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 3, overage: { unitAmount: 5 } }],
  });
  const h = { "X-User-Id": "u" };
  for (let i = 0; i < 8; i++) {
    assert.equal((await app.call("POST", "/api/data", { key: sk, headers: h })).status, 200);
  }
  const u = await app.call("GET", "/api/usage", { key: sk, headers: h });
  assert.equal(u.body.usage.overage, 5);
});
