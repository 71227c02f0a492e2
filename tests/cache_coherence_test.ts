/**
 * [e2e] Cache coherence costs one read per project per interval, not one per cached entry, and
 * another instance's changes (tier limits, subscriptions, key rotation, deletions) still show
 * within CACHE_TTL_MS.
 */
import assert from "node:assert/strict";
import { countingKv, developer, heldReads, project, testApp, TestClock } from "@/tests/helpers.ts";
import { projectByPk } from "@/lib/projects/projects.ts";
import { findCustomer } from "@/lib/customers/customers.ts";

Deno.test("[e2e] 300 cached customers cost one epoch read per project per interval, and changes elsewhere show", async () => {
  const real = await Deno.openKv(":memory:");
  const clock = new TestClock();
  const { kv, reads } = countingKv(real);
  await using writer = await testApp({ kv: real, clock, config: { cacheTtlMs: 2000 } });
  await using reader = await testApp({ kv, clock, config: { cacheTtlMs: 2000 } });
  const dev = await developer(writer);
  const { sk, pk } = await project(writer, dev.dat);
  const ids = Array.from({ length: 300 }, (_, i) => `cc${i}`);
  for (const id of ids) {
    await writer.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": id } });
  }
  const usage = (id: string) =>
    reader.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": id } });
  for (const id of ids) assert.equal((await usage(id)).body.usage.count, 1); // warm the reader
  // five intervals of reads over every customer: the reader re-reads no customer, no count
  reads.n = 0;
  for (let interval = 0; interval < 5; interval++) {
    clock.advance(2001);
    for (const id of ids) assert.equal((await usage(id)).status, 200);
  }
  assert.ok(
    reads.n <= 5 * 4,
    `${reads.n} KV reads for 1500 reads of 300 customers over 5 intervals`,
  );

  // a change made by the writer shows in the reader after one interval
  await writer.call("PATCH", `/v1/projects/${pk}/tiers/free`, { key: dev.dat, body: { limit: 7 } });
  await writer.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "cc0" } });
  assert.equal((await usage("cc0")).body.usage.limit, 5, "within the interval: the cached state");
  clock.advance(2001);
  const after = (await usage("cc0")).body.usage;
  assert.deepEqual([after.limit, after.count], [7, 2]);
  await writer.call("DELETE", "/api/customers/cc1", { key: sk });
  clock.advance(2001);
  assert.equal(
    (await reader.call("GET", "/api/customers/cc1", { key: sk })).status,
    404,
    "a deletion elsewhere is seen",
  );
  const rotated = await writer.call("POST", `/v1/projects/${pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 0 },
  });
  clock.advance(2001);
  assert.equal((await usage("cc2")).status, 401, "a key ended elsewhere stops working");
  assert.equal(
    (await reader.call("GET", "/api/usage", {
      key: rotated.body.secretKey,
      headers: { "X-User-Id": "cc2" },
    })).status,
    200,
  );
  real.close();
});

Deno.test("[e2e] a customer read while a change to it is written is not cached over the change", async () => {
  const reads = await heldReads();
  await using app = await testApp({ kv: reads.kv });
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, {});
  for (const id of ["kim", "lee"]) {
    assert.equal((await app.call("POST", "/api/customers", { key: sk, body: { id } })).status, 201);
  }
  const readDuring = async (id: string, change: () => Promise<number>) => {
    app.services.caches.customers.delete(pk, id); // not cached here (after a restart, say)
    const reading = await reads.begin("customers", () => findCustomer(app.services, pk, id));
    assert.equal(await change(), 200);
    reads.release();
    return (await reading.result)?.name;
  };
  // changed while read: the read answers what it read, the cache keeps the change
  const name = await readDuring(
    "kim",
    async () =>
      (await app.call("PATCH", "/api/customers/kim", { key: sk, body: { name: "Kim" } })).status,
  );
  assert.equal(name, null);
  assert.equal(app.services.caches.customers.get(pk, "kim")?.name, "Kim");
  // deleted while read: not cached again
  await readDuring(
    "lee",
    async () => (await app.call("DELETE", "/api/customers/lee", { key: sk })).status,
  );
  assert.equal(app.services.caches.customers.get(pk, "lee"), undefined);
  assert.equal((await app.call("GET", "/api/customers/lee", { key: sk })).status, 404);
});

Deno.test("[e2e] a project read while its tiers change is not cached over the change", async () => {
  const reads = await heldReads();
  await using app = await testApp({ kv: reads.kv });
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  const s = app.services;
  s.caches.projects.delete(pk); // not cached here (after a restart, say)
  const reading = await reads.begin("projects", () => projectByPk(s, pk));
  const patched = await app.call("PATCH", `/v1/projects/${pk}/tiers/free`, {
    key: dev.dat,
    body: { limit: 50 },
  });
  assert.equal(patched.status, 200, patched.text);
  reads.release();
  assert.equal((await reading.result)?.tiers[0]?.limit, 5, "the read that began before the change");
  assert.equal(s.caches.projects.get(pk)?.tiers[0]?.limit, 50);
  const track = await app.call("POST", "/api/data", {
    key: sk,
    headers: { "X-User-Id": "kim" },
    body: { quantity: 20 },
  });
  assert.deepEqual([track.status, track.body.usage?.limit], [200, 50]);
});
