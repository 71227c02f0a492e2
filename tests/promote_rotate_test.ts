/** [e2e] promote to live and secret-key rotation with a grace period. */
import assert from "node:assert/strict";
import { developer, heldReads, project, testApp } from "@/tests/helpers.ts";
import { sha256HexSync } from "@/lib/crypto.ts";
import { projectBySecretKey } from "@/lib/projects/projects.ts";

Deno.test("[e2e] POST /v1/projects/:pk/promote creates the live twin once", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const test = await project(app, dev.dat);
  const bad = await app.call("POST", `/v1/projects/${test.pk}/promote`, {
    key: dev.dat,
    body: { tiers: [{ name: "X", price: 0 }] },
  });
  assert.equal(bad.status, 422);
  // a misspelt field is refused: the one live twin is not made with the test tiers instead
  const typo = await app.call("POST", `/v1/projects/${test.pk}/promote`, {
    key: dev.dat,
    body: { tier: [{ name: "free", price: 0, limit: 10 }] },
  });
  assert.equal(typo.status, 422, typo.text);
  const res = await app.call("POST", `/v1/projects/${test.pk}/promote`, {
    key: dev.dat,
    body: {
      tiers: [{ name: "free", price: 0, limit: 10 }, { name: "pro", price: 2900, limit: 1000 }],
    },
  });
  assert.equal(res.status, 201, res.text);
  assert.match(res.body.publishableKey, /^pk_live_/);
  assert.match(res.body.secretKey, /^sk_live_/);
  assert.equal(res.body.project.mode, "live");
  assert.deepEqual(res.body.project.tiers.map((t: { price: number }) => t.price), [0, 2900]);
  assert.match(res.body.project.tiers[1].priceId, /^price_/);
  const again = await app.call("POST", `/v1/projects/${test.pk}/promote`, {
    key: dev.dat,
    body: {},
  });
  assert.equal(again.status, 409);
  assert.equal(again.body.error.code, "conflict");
  const read = await app.call("GET", `/v1/projects/${test.pk}`, { key: dev.dat });
  assert.equal(read.body.project.livePublishableKey, res.body.publishableKey);
  // test and live never mix
  await app.call("POST", "/api/data", { key: test.sk, headers: { "X-User-Id": "u" } });
  const live = await app.call("GET", "/api/usage", {
    key: res.body.secretKey,
    headers: { "X-User-Id": "u" },
  });
  assert.equal(live.body.usage.count, 0);
  const other = await developer(app);
  assert.equal(
    (await app.call("POST", `/v1/projects/${test.pk}/promote`, { key: other.dat, body: {} }))
      .status,
    403,
  );
});

Deno.test("[e2e] concurrent promotes make exactly one live twin", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const test = await project(app, dev.dat);
  const res = await Promise.all(
    [1, 2, 3].map(() =>
      app.call("POST", `/v1/projects/${test.pk}/promote`, { key: dev.dat, body: {} })
    ),
  );
  assert.equal(res.filter((r) => r.status === 201).length, 1);
  assert.equal(res.filter((r) => r.status === 409).length, 2);
  const list = await app.call("GET", "/v1/projects", { key: dev.dat });
  assert.equal(list.body.projects.length, 2);
});

Deno.test("[e2e] promote needs the platform plan when the operator prices one", async () => {
  await using app = await testApp({ config: { platformPriceCents: 1500 } });
  const dev = await developer(app);
  const test = await project(app, dev.dat);
  const res = await app.call("POST", `/v1/projects/${test.pk}/promote`, { key: dev.dat, body: {} });
  assert.equal(res.status, 403);
  assert.match(res.body.error.message, /platform plan/);
});

Deno.test("[e2e] key rotation: new key works at once, old key stops after the grace period", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const p = await project(app, dev.dat);
  const h = { "X-User-Id": "u" };
  assert.equal(
    (await app.call("GET", "/api/usage", { key: p.sk, headers: h })).status,
    200,
    "old key cached",
  );
  const rot = await app.call("POST", `/v1/projects/${p.pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 60 },
  });
  assert.equal(rot.status, 200);
  assert.equal(rot.body.publishableKey, p.pk, "the project keeps its publishable key");
  assert.notEqual(rot.body.secretKey, p.sk);
  assert.equal(
    (await app.call("GET", "/api/usage", { key: rot.body.secretKey, headers: h })).status,
    200,
  );
  assert.equal(
    (await app.call("GET", "/api/usage", { key: p.sk, headers: h })).status,
    200,
    "within grace",
  );
  app.clock.advance(61_000);
  const old = await app.call("GET", "/api/usage", { key: p.sk, headers: h });
  assert.equal(old.status, 401);
  assert.equal(old.body.error.code, "invalid_api_key");
  const now = await app.call("POST", `/v1/projects/${p.pk}/keys/rotate`, {
    key: dev.dat,
    body: {},
  });
  assert.equal(
    (await app.call("GET", "/api/usage", { key: rot.body.secretKey, headers: h })).status,
    401,
    "no grace: at once",
  );
  assert.equal(
    (await app.call("GET", "/api/usage", { key: now.body.secretKey, headers: h })).status,
    200,
  );
  assert.equal(
    (await app.call("POST", `/v1/projects/${p.pk}/keys/rotate`, {
      key: dev.dat,
      body: { graceSeconds: -1 },
    })).status,
    422,
  );
  // a misspelt field is refused, not read as the default grace, 0 (the key in use would end)
  const typo = await app.call("POST", `/v1/projects/${p.pk}/keys/rotate`, {
    key: dev.dat,
    body: { grace_seconds: 86_400 },
  });
  assert.equal(typo.status, 422, typo.text);
  assert.equal(
    (await app.call("GET", "/api/usage", { key: now.body.secretKey, headers: h })).status,
    200,
    "nothing rotated",
  );
});

Deno.test("[e2e] another instance sees a rotation within the cache TTL", async () => {
  await using a = await testApp({ config: { cacheTtlMs: 2000 } });
  await using b = await testApp({ kv: a.kv, clock: a.clock, config: { cacheTtlMs: 2000 } });
  const dev = await developer(a);
  const p = await project(a, dev.dat);
  const h = { "X-User-Id": "u" };
  assert.equal((await b.call("GET", "/api/usage", { key: p.sk, headers: h })).status, 200);
  await a.call("POST", `/v1/projects/${p.pk}/keys/rotate`, { key: dev.dat, body: {} });
  assert.equal(
    (await a.call("GET", "/api/usage", { key: p.sk, headers: h })).status,
    401,
    "at once where it happened",
  );
  a.clock.advance(2001);
  assert.equal(
    (await b.call("GET", "/api/usage", { key: p.sk, headers: h })).status,
    401,
    "after the TTL elsewhere",
  );
});

Deno.test("[e2e] GET /keys lists keys in grace; graceSeconds 0 ends every older key at once", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const p = await project(app, dev.dat);
  const works = async (sk: string) =>
    (await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "k1" } })).status;
  const rotate = async (graceSeconds: number) =>
    (await app.call("POST", `/v1/projects/${p.pk}/keys/rotate`, {
      key: dev.dat,
      body: { graceSeconds },
    })).body.secretKey as string;
  const list = async () =>
    (await app.call("GET", `/v1/projects/${p.pk}/keys`, { key: dev.dat })).body;

  const first = await list();
  assert.equal(first.current.prefix, p.sk.slice(0, 12));
  assert.deepEqual(first.previous, []);
  const b = await rotate(3600);
  app.clock.advance(60_000);
  const c = await rotate(7200);
  const graced = await list();
  assert.equal(graced.current.prefix, c.slice(0, 12));
  assert.deepEqual(graced.previous.map((k: { prefix: string }) => k.prefix), [
    p.sk.slice(0, 12),
    b.slice(0, 12),
  ]);
  assert.equal(
    graced.previous[0].expiresAt,
    new Date(Date.parse("2026-11-24T12:00:00.000Z") + 3600_000).toISOString(),
  );
  for (const sk of [p.sk, b, c]) assert.equal(await works(sk), 200);
  assert.ok(!JSON.stringify(graced).includes(c), "never the key itself");

  const d = await rotate(0);
  for (const sk of [p.sk, b, c]) assert.equal(await works(sk), 401, "every older key ends now");
  assert.equal(await works(d), 200);
  assert.deepEqual((await list()).previous, []);

  // another instance on the same KV sees it within the cache TTL
  await using other = await testApp({ kv: app.kv, clock: app.clock });
  assert.equal(
    (await other.call("GET", "/api/usage", { key: b, headers: { "X-User-Id": "k1" } })).status,
    401,
  );
  const foreign = await developer(app);
  assert.equal(
    (await app.call("GET", `/v1/projects/${p.pk}/keys`, { key: foreign.dat })).status,
    403,
  );
});

Deno.test("[e2e] a key looked up while a rotation ends it is not cached as working", async () => {
  const reads = await heldReads();
  await using app = await testApp({ kv: reads.kv });
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, {});
  const s = app.services;
  const usage = (key: string) =>
    app.call("GET", "/api/usage", { key, headers: { "X-User-Id": "kim" } });
  assert.equal((await usage(sk)).status, 200);
  s.caches.secrets.delete(sha256HexSync(sk)); // not cached here (after a restart, say)
  const looking = await reads.begin("projects_by_secret", () => projectBySecretKey(s, sk));
  const rotated = await app.call("POST", `/v1/projects/${pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 0 },
  });
  assert.equal(rotated.status, 200);
  reads.release();
  assert.equal((await looking.result).pk, pk, "the lookup that began before the rotation");
  // the old key is refused from now on, by the hot path and the full app alike
  assert.equal((await usage(sk)).status, 401);
  assert.equal((await app.call("GET", "/api/customers/kim", { key: sk })).status, 401);
  assert.equal((await usage(rotated.body.secretKey)).status, 200);
});
