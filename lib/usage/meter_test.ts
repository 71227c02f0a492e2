import assert from "node:assert/strict";
import { usageJson, UsageMeter, usageView } from "@/lib/usage/meter.ts";
import type { CountMemo } from "@/lib/usage/held.ts";
import { calendarMonth } from "@/lib/period.ts";
import { foldedCount } from "@/lib/kv/usage.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { delayedKv, proxyKv } from "@/tests/helpers.ts";

const NOW = Date.parse("2026-11-24T12:00:00Z");
const period = calendarMonth(NOW);
const req = (customerId: string, limit: number | null, extra = {}) => ({
  pk: "pk_test_meter",
  customerId,
  plan: "free",
  period,
  limit,
  quantity: 1,
  ...extra,
});

Deno.test("UsageMeter.track() accepts exactly the limit out of 200 concurrent calls", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW);
  const flushAll = () => meter.flush();
  const out = await Promise.all(Array.from({ length: 200 }, () => meter.track(req("alice", 50))));
  assert.equal(out.filter((o) => o.kind === "counted").length, 50);
  assert.equal(out.filter((o) => o.kind === "limited").length, 150);
  await flushAll();
  assert.equal(
    await foldedCount(kv, "pk_test_meter", { customerId: "alice", periodStart: period.start }),
    50,
  );
  assert.ok(meter.commits < 20, `group commit: ${meter.commits} commits for 50 increments`);
});

Deno.test("UsageMeter.track() stays exact with two meters (two instances) on one KV", async () => {
  using kv = await Deno.openKv(":memory:");
  const a = new UsageMeter(kv, () => NOW);
  const b = new UsageMeter(kv, () => NOW);
  // Warm both caches so each holds a soon-stale counter value.
  await a.track(req("bob", 50));
  await b.track(req("bob", 50));
  const out = await Promise.all(
    Array.from({ length: 200 }, (_, i) => (i % 2 ? a : b).track(req("bob", 50))),
  );
  const counted = out.filter((o) => o.kind === "counted").length;
  assert.equal(counted, 48);
  await a.flush();
  assert.equal(
    await foldedCount(kv, "pk_test_meter", { customerId: "bob", periodStart: period.start }),
    50,
  );
});

Deno.test("UsageMeter.track() with an idempotency key counts once and refuses another body", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW);
  const flushAll = () => meter.flush();
  const idem = { key: "k1", fingerprint: "f1" };
  const [x, y] = await Promise.all([
    meter.track(req("carol", null, { idempotency: idem })),
    meter.track(req("carol", null, { idempotency: idem })),
  ]);
  assert.equal(x!.kind, "counted");
  assert.equal(y!.kind, "replayed");
  const again = await meter.track(req("carol", null, { idempotency: idem }));
  assert.equal(again.kind, "replayed");
  assert.deepEqual(again.kind === "replayed" && again.record.body, {
    success: true,
    usage: x!.kind === "counted" && x!.usage,
  });
  const other = await meter.track(
    req("carol", null, { idempotency: { key: "k1", fingerprint: "f2" } }),
  );
  assert.equal(other.kind, "idempotency_conflict");
  await flushAll();
  assert.equal(
    await foldedCount(kv, "pk_test_meter", { customerId: "carol", periodStart: period.start }),
    1,
  );
});

for (const bucketAt of [undefined, 1]) {
  const how = bucketAt ? "folded into tally buckets" : "folded into per-key tallies";
  Deno.test(`UsageMeter.resetCustomer() starts a customer from zero, in every instance (${how})`, async () => {
    using kv = await Deno.openKv(":memory:");
    let now = NOW;
    const o = { ttlMs: 1000, ...(bucketAt ? { bucketAt } : {}) };
    const a = new UsageMeter(kv, () => now, o);
    const b = new UsageMeter(kv, () => now, o);
    for (let i = 0; i < 3; i++) await a.track(req("dave", 3));
    assert.equal((await b.track(req("dave", 3))).kind, "limited", "b learns a's counts");
    await a.resetCustomer("pk_test_meter", "dave");
    assert.equal(await a.peek("pk_test_meter", "dave", period), 0);
    now += 1000; // b trusts its counts for 1 s, then catches up and sees the reset
    const out = await b.track(req("dave", 3));
    assert.equal(out.kind, "counted");
    assert.equal(out.kind === "counted" && out.usage.count, 1);
    await a.flush();
    assert.equal(
      await foldedCount(kv, "pk_test_meter", { customerId: "dave", periodStart: period.start }),
      1,
    );
    assert.equal(await new UsageMeter(kv, () => now, o).peek("pk_test_meter", "dave", period), 1);
  });
}

Deno.test("UsageMeter.resetCustomer() is seen at once by its own instance, though a catch-up under way read the head before it", async () => {
  using real = await Deno.openKv(":memory:");
  let now = NOW;
  // `held`: the next read of the log's head reads at once but answers only once the reset's
  // commit (the one that sets both the head and the folded watermark) has landed, and a moment
  // after
  let held = false;
  let landed!: () => void;
  const appended = new Promise<void>((r) => landed = r);
  const kv = proxyKv(real, (prop, method) => {
    if (prop === "getMany") {
      return async (...a: unknown[]) => {
        const first = (a[0] as Deno.KvKey[])[0]!;
        if (!held || first[0] !== "usage_head") return method(...a);
        held = false;
        const res = await method(...a);
        await appended;
        return res;
      };
    }
    if (prop !== "atomic") return undefined;
    return () => {
      const op = method() as Deno.AtomicOperation;
      const tables = new Set<unknown>();
      const set = op.set.bind(op);
      op.set = (key, value, o) => {
        tables.add(key[0]);
        return set(key, value, o);
      };
      const commit = op.commit.bind(op);
      op.commit = async () => {
        const res = await commit();
        // answered a moment later: after what follows the reset's commit has run
        if (tables.has("usage_head") && tables.has("usage_folded") && res.ok) {
          setTimeout(landed, 5);
        }
        return res;
      };
      return op;
    };
  });
  const a = new UsageMeter(kv, () => now, { ttlMs: 1000 });
  for (let i = 0; i < 3; i++) await a.track(req("dave", 5));
  now += 1000; // the head is to be confirmed again: the next read catches up
  held = true;
  const reading = a.peek("pk_test_meter", "dave", period);
  await new Promise((r) => setTimeout(r, 10)); // its catch-up has read the head
  assert.equal(held, false);
  await a.resetCustomer("pk_test_meter", "dave");
  assert.equal(await reading, 3, "the read that began before the reset");
  assert.equal(await a.peek("pk_test_meter", "dave", period), 0);
  const out = await a.track(req("dave", 5, { quantity: 5 }));
  assert.deepEqual([out.kind, out.kind === "counted" && out.usage.count], ["counted", 5]);
});

Deno.test("UsageMeter.track() refuses a quantity that would pass the limit and counts nothing", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW);
  assert.equal((await meter.track(req("erin", 10, { quantity: 7 }))).kind, "counted");
  const o = await meter.track(req("erin", 10, { quantity: 4 }));
  assert.equal(o.kind, "limited");
  assert.deepEqual(o.kind === "limited" && o.usage, {
    userId: "erin",
    count: 7,
    usageCount: 7,
    limit: 10,
    remaining: 3,
    overage: 0,
    plan: "free",
    periodStart: period.start,
    periodEnd: period.end,
  });
  const month = await kv.get<Deno.KvU64>(projectStatKeys.usageMonth("pk_test_meter", "2026-11"));
  assert.equal(month.value?.value, 7n);
});

Deno.test("UsageMeter.track() batches calls of many customers beyond 10 keys per commit", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW);
  const out = await Promise.all(
    Array.from({ length: 300 }, (_, i) => meter.track(req(`c${i % 30}`, 8))),
  );
  assert.equal(out.filter((o) => o.kind === "counted").length, 30 * 8);
  await meter.flush();
  for (let i = 0; i < 30; i++) {
    assert.equal(
      await foldedCount(kv, "pk_test_meter", { customerId: `c${i}`, periodStart: period.start }),
      8,
    );
  }
});

Deno.test("usageJson() writes exactly what JSON.stringify writes", () => {
  const plans = ["free", "pro", 'a "quoted" plan', "plän ünicode \u2028", "back\\slash", ""];
  const limits = [null, 0, 1, 100, 1_000_000_000, 2 ** 53 - 1];
  for (const plan of plans) {
    for (const limit of limits) {
      for (const count of [0, 1, 99, 100, 12_345_678]) {
        const u = usageView({ customerId: "u_1", plan, limit, period }, count);
        assert.equal(usageJson(u), JSON.stringify(u));
      }
    }
  }
  const sub = { start: "2026-01-31T10:00:00.000Z", end: "2026-02-28T10:00:00.000Z" };
  const u = usageView({ customerId: 'a"b\\c', plan: "pro", limit: 5, period: sub }, 7);
  assert.equal(usageJson(u), JSON.stringify(u));
});

Deno.test("UsageMeter: a catch-up that reads the meter's own row while its commit is answered counts it once", async () => {
  using real = await Deno.openKv(":memory:");
  let now = NOW;
  const delays = { commitResult: 0, list: 0 };
  const slow = delayedKv(real, delays);
  const x = new UsageMeter(slow.kv, () => now, { ttlMs: 100 });
  const y = new UsageMeter(real, () => now, { ttlMs: 100 });
  const call = req("erin", null);
  await x.track(call);
  await y.track(call);
  now += 1000;
  assert.equal(await x.peek("pk_test_meter", "erin", period), 2);
  // x commits its row but hears so late that y appends after it and x's head grows old: x's
  // catch-up reads both rows, and x's commit is answered while it reads
  delays.commitResult = 60;
  delays.list = 40;
  const tracked = x.track(call);
  await new Promise((r) => setTimeout(r, 20));
  await y.track(call);
  now += 1000;
  const seen = x.peek("pk_test_meter", "erin", period);
  await tracked;
  await seen;
  assert.deepEqual(slow.events, ["commit landed", "list started", "commit answered", "list done"]);
  delays.commitResult = delays.list = 0;
  now += 1000;
  assert.equal(await x.peek("pk_test_meter", "erin", period), 4, "x counts its own row once");
  assert.equal(await y.peek("pk_test_meter", "erin", period), 4);
});

/** A KV whose commits call `sent` as they go out and are answered once `answer()` settles. */
function slowCommits(
  real: Deno.Kv,
  o: { sent?: () => void; answer: () => Promise<unknown> | null },
): Deno.Kv {
  return proxyKv(real, (prop) =>
    prop === "atomic"
      ? () => {
        const op = real.atomic();
        const commit = op.commit.bind(op);
        op.commit = async () => {
          o.sent?.();
          const res = await commit();
          await o.answer();
          return res;
        };
        return op;
      }
      : undefined);
}

Deno.test("the next batch's commit is sent before the previous batch is answered, when it is ready", async () => {
  using real = await Deno.openKv(":memory:");
  const events: string[] = [];
  // every commit sent is logged, and answered 20 ms after it landed (as a remote store would)
  const kv = slowCommits(real, {
    sent: () => events.push("sent"),
    answer: () => new Promise((r) => setTimeout(r, 20)),
  });
  const meter = new UsageMeter(kv, () => NOW, { ttlMs: 60_000 });
  await meter.track(req("dan", null)); // held and fresh from here on
  events.length = 0;
  const first = meter.track(req("dan", null)).then(() => events.push("first answered"));
  await new Promise((r) => setTimeout(r, 5)); // the first commit is in flight
  const second = meter.track(req("dan", null)).then(() => events.push("second answered"));
  await Promise.all([first, second]);
  assert.deepEqual(events, ["sent", "sent", "first answered", "second answered"]);
  assert.equal(await meter.peek("pk_test_meter", "dan", period), 3);
  // an idempotency key needs a read first: that batch waits for the answers (the slow path)
  events.length = 0;
  const third = meter.track(req("dan", null)).then(() => events.push("third answered"));
  await new Promise((r) => setTimeout(r, 5));
  const fourth = meter.track(req("dan", null, { idempotency: { key: "k9", fingerprint: "f" } }))
    .then(() => events.push("fourth answered"));
  await Promise.all([third, fourth]);
  assert.deepEqual(events, ["sent", "third answered", "sent", "fourth answered"]);
});

Deno.test("a call the held count already refuses is answered at once, not after the batch in flight", async () => {
  using real = await Deno.openKv(":memory:");
  const events: string[] = [];
  let gate: Promise<void> | null = null;
  let release = () => {};
  const kv = slowCommits(real, { answer: () => gate });
  const meter = new UsageMeter(kv, () => NOW, { ttlMs: 60_000 });
  assert.equal((await meter.track(req("fay", 3, { quantity: 3 }))).kind, "counted");
  assert.equal((await meter.track(req("gus", 5))).kind, "counted");
  // from here, commits are answered only when released
  gate = new Promise<void>((r) => release = r);
  const counting = meter.track(req("gus", 5)).then((o) => events.push(`gus ${o.kind}`));
  await new Promise((r) => setTimeout(r, 5)); // gus's commit is in flight
  const refused = await meter.track(req("fay", 3));
  assert.deepEqual(refused.kind === "limited" && refused.usage.count, 3);
  const passing = meter.track(req("fay", 3, { overage: true, overageCap: 1 }));
  // a call the count held doesn't refuse (here: overage up to one more) waits for its batch
  events.push("fay refused");
  gate = null;
  release();
  await counting;
  assert.equal((await passing).kind, "counted");
  assert.deepEqual(events, ["fay refused", "gus counted"]);
  // a head confirmed too long ago: the refusal is decided by a batch, on counts read again
  const later = new UsageMeter(real, () => NOW, { ttlMs: 0 });
  const o = await later.track(req("fay", 3, { overage: true, overageCap: 1 }));
  assert.deepEqual(o.kind === "limited" && o.usage.count, 4);
});

Deno.test("a meter's first fold of a project sweeps the rows an earlier process folded and left", async () => {
  using kv = await Deno.openKv(":memory:");
  const first = new UsageMeter(kv, () => NOW, { foldRows: 1_000_000 });
  for (let i = 0; i < 6; i++) await first.track(req("hal", null));
  // folded, but its rows not deleted (as when a process stops between the two)
  await kv.set(["usage_folded", "pk_test_meter"], 4);
  const rows = async () => {
    let n = 0;
    for await (const _ of kv.list({ prefix: ["usage_log", "pk_test_meter"] })) n++;
    return n;
  };
  assert.equal(await rows(), 6);
  const next = new UsageMeter(kv, () => NOW, { foldRows: 1 });
  await next.track(req("hal", null));
  await next.flush(); // waits for the fold the commit started
  assert.equal(await rows(), 0);
});

Deno.test("UsageMeter.peekCached() with a memo follows the count in place, and looks again after a reset or a new period", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = NOW;
  const a = new UsageMeter(kv, () => now, { ttlMs: 1000 });
  const b = new UsageMeter(kv, () => now, { ttlMs: 1000 });
  const pk = "pk_test_meter";
  const memo: { aux: CountMemo | undefined } = { aux: undefined };
  assert.equal(a.peekCached(pk, "fay", period, memo), undefined, "not held yet");
  assert.equal(memo.aux, undefined);
  await a.track(req("fay", null));
  assert.equal(a.peekCached(pk, "fay", period, memo), 1);
  const cell = memo.aux!.cell;
  const note = memo.aux!;
  await a.track(req("fay", null, { quantity: 2 }));
  assert.equal(a.peekCached(pk, "fay", period, memo), 3, "the same cell, moved by the commit");
  assert.equal(memo.aux!.cell, cell);
  assert.equal(a.countOf(note, now), 3, "countOf() reads the same cell through the note");
  // another instance resets the customer: once a catches up the cell is dead, the count read again
  await b.resetCustomer(pk, "fay");
  now += 1000;
  assert.equal(a.peekCached(pk, "fay", period, memo), undefined, "head too old to answer from");
  assert.equal(a.countOf(note, now), undefined, "nor through the note");
  assert.equal(await a.peek(pk, "fay", period), 0);
  assert.equal(cell.dead, true);
  assert.equal(a.countOf(note, now), undefined, "a dead cell's note answers nothing");
  assert.equal(a.peekCached(pk, "fay", period, memo), 0);
  assert.notEqual(memo.aux!.cell, cell);
  // a memo of last period's count is not used for this one
  const next = { start: period.end, end: "2027-01-01T00:00:00.000Z" };
  assert.equal(a.peekCached(pk, "fay", next, memo), undefined);
  await a.track(req("fay", null, { period: next }));
  assert.equal(a.peekCached(pk, "fay", next, memo), 1);
  assert.equal(memo.aux!.start, next.start);
});

Deno.test("UsageMeter: past its bound of counts held, it drops those loaded longest ago, keeps the rest and stays exact", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW, { ttlMs: 1000, maxCounts: 8 });
  const held = (c: string) => meter.peekCached("pk_test_meter", c, period);
  for (let i = 0; i < 8; i++) await meter.track(req(`c${i}`, null));
  const memo: { aux: CountMemo | undefined } = { aux: undefined };
  assert.equal(meter.peekCached("pk_test_meter", "c5", period, memo), 1);
  // a ninth count: down to three quarters of the bound (6), the two loaded first go
  await meter.track(req("c8", null));
  assert.deepEqual(
    Array.from({ length: 9 }, (_, i) => held(`c${i}`)),
    [undefined, undefined, 1, 1, 1, 1, 1, 1, 1],
  );
  assert.equal(memo.aux!.cell.dead, false, "a count kept keeps its cell");
  // a dropped count is read again, exact
  const again = await meter.track(req("c0", null));
  assert.equal(again.kind === "counted" && again.usage.count, 2);
  assert.equal(held("c0"), 2);
  assert.deepEqual(
    Array.from({ length: 7 }, (_, i) => held(`c${i + 2}`)),
    [1, 1, 1, 1, 1, 1, 1],
    "the counts in use stay held",
  );
  await meter.flush();
  for (let i = 0; i < 9; i++) {
    assert.equal(
      await foldedCount(kv, "pk_test_meter", { customerId: `c${i}`, periodStart: period.start }),
      i === 0 ? 2 : 1,
    );
  }
});
