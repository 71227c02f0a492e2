import assert from "node:assert/strict";
import {
  BUCKET_KEEP_MS,
  bucketKeys,
  bucketOf,
  countKey,
  parseCountKey,
  planBuckets,
  recentCountKey,
} from "@/lib/kv/usage_buckets.ts";
import {
  customerPeriodStarts,
  foldedCount,
  readLogPosition,
  resetCustomerUsage,
} from "@/lib/kv/usage.ts";
import { foldLog } from "@/lib/kv/usage_fold.ts";
import { UsageMeter } from "@/lib/usage/meter.ts";
import { calendarMonth } from "@/lib/period.ts";
import { proxyKv } from "@/tests/helpers.ts";

const PK = "pk_test_buckets";
const NOW = Date.parse("2026-11-24T12:00:00Z");
const period = calendarMonth(NOW);

Deno.test("planBuckets() adds to entries, makes new ones while a bucket has room, spills the rest", () => {
  const a = countKey("a", period.start);
  const b0 = bucketOf("a");
  const current = () => new Map([[b0, { [a]: 5 }]]);
  const sums = [
    { customerId: "a", periodStart: period.start, q: 2 },
    { customerId: "b", periodStart: period.start, q: 1 },
  ];
  const roomy = planBuckets(current(), sums, { now: NOW, maxBytes: 8192, maxMoves: 10 });
  assert.equal(roomy.buckets.get(b0)![a], 7);
  assert.equal(roomy.buckets.get(bucketOf("b"))![countKey("b", period.start)], 1);
  assert.deepEqual(roomy.tallies, []);
  // no room for new entries: "a" still adds to its entry, "b" becomes a per-key tally
  const full = planBuckets(current(), sums, { now: NOW, maxBytes: 1, maxMoves: 10 });
  assert.equal(full.buckets.get(b0)![a], 7);
  assert.deepEqual(full.tallies, [{ customerId: "b", periodStart: period.start, q: 1 }]);
});

Deno.test("planBuckets() moves entries of long-past periods out to per-key tallies, at most maxMoves", () => {
  const old = "2026-01-01T00:00:00.000Z";
  const ids = Array.from({ length: 400 }, (_, i) => `c${i}`).filter((c) => bucketOf(c) === 3);
  const current = new Map([[3, Object.fromEntries(ids.map((c) => [countKey(c, old), 4]))]]);
  const sums = [{ customerId: ids[0]!, periodStart: period.start, q: 1 }];
  const plan = planBuckets(current, sums, { now: NOW, maxBytes: 8192, maxMoves: 2 });
  assert.ok(Date.parse(old) < NOW - BUCKET_KEEP_MS);
  assert.equal(plan.tallies.length, 2);
  assert.equal(plan.moved, 2);
  assert.ok(plan.tallies.every((t) => t.periodStart === old && t.q === 4));
  const kept = plan.buckets.get(3)!;
  assert.equal(Object.keys(kept).length, ids.length - 2 + 1);
  for (const t of plan.tallies) assert.equal(kept[countKey(t.customerId, old)], undefined);
});

Deno.test("foldLog() folds 2 000 customers' calls in one commit through the buckets, counts exact", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW, { foldRows: 100_000 });
  const ids = Array.from({ length: 2000 }, (_, i) => `cust_${i}`);
  for (let i = 0; i < ids.length; i += 250) {
    await Promise.all(
      ids.slice(i, i + 250).map((customerId, j) =>
        meter.track({ pk: PK, customerId, plan: "p", period, limit: null, quantity: 1 + (j % 3) })
      ),
    );
  }
  const { seq } = await readLogPosition(kv, PK);
  assert.equal(await foldLog(kv, PK, { maxRows: 256, now: NOW }), seq, "one fold, every row");
  for (const [i, customerId] of ids.entries()) {
    if (i % 97) continue;
    const want = 1 + ((i % 250) % 3);
    assert.equal(await foldedCount(kv, PK, { customerId, periodStart: period.start }), want);
  }
  let stored = 0;
  for await (const e of kv.list({ prefix: ["usage_bucket", PK] })) {
    stored += Object.keys(e.value as object).length;
  }
  assert.equal(stored, 2000, "every customer's tally is a bucket entry");
  // weeks later, the next fold moves the month's entries out; counts are the same
  await meter.track({ pk: PK, customerId: ids[0]!, plan: "p", period, limit: null, quantity: 1 });
  const later = NOW + 40 * 86_400_000;
  assert.notEqual(await foldLog(kv, PK, { maxRows: 256, now: later }), null);
  assert.equal(await foldedCount(kv, PK, { customerId: ids[0]!, periodStart: period.start }), 2);
  const starts = await customerPeriodStarts(kv, PK, { customerId: ids[5]!, limit: 5 });
  assert.deepEqual(starts, [period.start], "history finds periods in buckets and tallies alike");
});

Deno.test("a usage reset removes the customer's bucket entries; a fold that read before it is refused", async () => {
  using real = await Deno.openKv(":memory:");
  const meter = new UsageMeter(real, () => NOW, { foldRows: 100_000, bucketAt: 1 });
  const track = (customerId: string) =>
    meter.track({ pk: PK, customerId, plan: "p", period, limit: null, quantity: 3 });
  await track("ann");
  await meter.flush();
  await track("ann");
  // a slow folder reads the watermark, then waits (until released: no timing involved);
  // meanwhile everything is folded and reset
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  const slow = proxyKv(real, (prop, method) =>
    prop === "get"
      ? async (...args: unknown[]) => {
        const got = await method(...args);
        await gate;
        return got;
      }
      : undefined);
  const folding = foldLog(slow, PK, { maxRows: 256, now: NOW, bucketAt: 1 });
  assert.notEqual(await foldLog(real, PK, { maxRows: 256, now: NOW, bucketAt: 1 }), null);
  const before = await real.get<Record<string, number>>(bucketKeys.bucket(PK, bucketOf("ann")));
  assert.equal(before.value![countKey("ann", period.start)], 6, "ann's tally is a bucket entry");
  const at = await readLogPosition(real, PK);
  assert.notEqual(await resetCustomerUsage(real, PK, { customerId: "ann", at }), null);
  release();
  assert.equal(await folding, null, "the slow fold is refused: the watermark moved");
  const bucket = (await real.get<Record<string, number>>(bucketKeys.bucket(PK, bucketOf("ann"))))
    .value!;
  assert.equal(bucket[countKey("ann", period.start)], undefined);
  assert.equal(await foldedCount(real, PK, { customerId: "ann", periodStart: period.start }), 0);
});

Deno.test("foldLog() fits one commit when old entries move out and long new keys spill at once", async () => {
  using kv = await Deno.openKv(":memory:");
  const long = (n: number, fill: string) =>
    Array.from({ length: n }, (_, i) => `${String(i).padStart(4, "0")}${fill.repeat(124)}`);
  const track = (meter: UsageMeter, ids: string[], p = period) =>
    Promise.all(
      ids.map((customerId) =>
        meter.track({ pk: PK, customerId, plan: "p", period: p, limit: null, quantity: 1 })
      ),
    );
  // 300 customers with 128-character ids fill the buckets in October
  const october = calendarMonth(Date.parse("2026-10-10T00:00:00Z"));
  await track(new UsageMeter(kv, () => NOW, { foldRows: 100_000 }), long(300, "o"), october);
  assert.notEqual(await foldLog(kv, PK, { maxRows: 256, now: NOW, bucketAt: 1 }), null);
  // weeks later, 400 new ones with no room in the buckets: every fold moves and spills
  const later = NOW + 40 * 86_400_000;
  const meter = new UsageMeter(kv, () => later, { foldRows: 100_000 });
  await track(meter, long(400, "n"));
  const { seq } = await readLogPosition(kv, PK);
  for (let i = 0; (await readLogPosition(kv, PK)).folded < seq; i++) {
    const o = { maxRows: 256, now: later, bucketBytes: 1, bucketAt: 1 };
    assert.notEqual(await foldLog(kv, PK, o), null);
    assert.ok(i < 20, "the fold makes progress");
  }
  const id = (fill: string, i: number) => `${String(i).padStart(4, "0")}${fill.repeat(124)}`;
  let left = 0;
  for await (const e of kv.list<Record<string, number>>({ prefix: ["usage_bucket", PK] })) {
    left += Object.keys(e.value).filter((k) => k.endsWith(october.start)).length;
  }
  assert.ok(left < 300, `October's entries are moving out of the buckets (${left} left)`);
  assert.equal(
    await foldedCount(kv, PK, { customerId: id("o", 7), periodStart: october.start }),
    1,
  );
  assert.equal(
    await foldedCount(kv, PK, { customerId: id("n", 399), periodStart: period.start }),
    1,
  );
});

Deno.test("recentCountKey is countKey, for a customer's latest period and any other", () => {
  const [may, june] = ["2026-05-01T00:00:00.000Z", "2026-06-01T00:00:00.000Z"];
  for (const [c, p] of [["u1", may], ["u1", may], ["u1", june], ["u1", may], ["u2", june]]) {
    assert.equal(recentCountKey(c!, p!), countKey(c!, p!));
  }
  assert.deepEqual(parseCountKey(recentCountKey("u:3", june)), {
    customerId: "u:3",
    periodStart: june,
  });
});
