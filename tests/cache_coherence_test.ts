/**
 * [e2e] Cache coherence costs one read per project per interval, not one per cached entry, and
 * another instance's changes (tier limits, subscriptions, key rotation, deletions) still show
 * within CACHE_TTL_MS.
 */
import assert from "node:assert/strict";
import { countingKv, developer, project, testApp, TestClock } from "@/tests/helpers.ts";

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
