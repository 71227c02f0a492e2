import assert from "node:assert/strict";
import { calendarMonth } from "@/lib/period.ts";
import { UsageMeter } from "@/lib/usage/meter.ts";
import {
  commitUsageBatch,
  foldedCount,
  type LogLine,
  readLog,
  readLogPosition,
  usageKeys,
} from "@/lib/kv/usage.ts";
import { foldLog, sweepFoldedRows } from "@/lib/kv/usage_fold.ts";
import { proxyKv } from "@/tests/helpers.ts";

const PK = "pk_test_fold";
const NOW = Date.parse("2026-11-24T12:00:00Z");
const period = calendarMonth(NOW);

/** `n` customer ids of 128 characters, the longest the contract allows (~200 bytes a tally key). */
const longIds = (n: number, fill: string) =>
  Array.from({ length: n }, (_, i) => `${String(i).padStart(4, "0")}${fill.repeat(124)}`);

/** One call for each customer, all at once: as many batches as the meter needs. */
const trackAll = (meter: UsageMeter, ids: string[]) =>
  Promise.all(
    ids.map((customerId) =>
      meter.track({ pk: PK, customerId, plan: "p", period, limit: null, quantity: 1 })
    ),
  );

/** Appends log rows as the meter does (each under the head the one before left) and holds them. */
function logWriter(kv: Deno.Kv) {
  const held = new Map<number, LogLine[]>();
  let head: string | null = null;
  return {
    held,
    async append(seq: number, lines: LogLine[]) {
      head = await commitUsageBatch(kv, {
        rows: [{ pk: PK, seq, headVersionstamp: head, lines }],
        claims: [],
        now: NOW,
      });
      assert.ok(head);
      held.set(seq, lines);
    },
  };
}

Deno.test("foldLog() keeps each commit under Deno KV's 80 KiB of keys, with the longest customer ids", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW, { foldRows: 100_000 });
  const ids = longIds(900, "x");
  for (let i = 0; i < ids.length; i += 100) await trackAll(meter, ids.slice(i, i + 100));
  const { seq } = await readLogPosition(kv, PK);
  let folds = 0;
  while ((await readLogPosition(kv, PK)).folded < seq) {
    // buckets with no room: every key is a per-key tally, as when a project's buckets are full
    assert.notEqual(await foldLog(kv, PK, { maxRows: 256, now: NOW, bucketBytes: 1 }), null);
    assert.ok(++folds < 50, "the fold makes progress");
  }
  assert.ok(folds >= 3, `900 long keys take several folds (${folds})`);
  for (const customerId of [ids[0]!, ids[450]!, ids[899]!]) {
    assert.equal(await foldedCount(kv, PK, { customerId, periodStart: period.start }), 1);
  }
});

Deno.test("UsageMeter batches keep a log row foldable in one commit: 512 calls of the longest ids at once", async () => {
  using kv = await Deno.openKv(":memory:");
  const meter = new UsageMeter(kv, () => NOW, { foldRows: 100_000 });
  const ids = longIds(512, "y");
  await trackAll(meter, ids);
  assert.ok(meter.commits >= 2, `one row of 512 × 200-byte keys would not fold (${meter.commits})`);
  await meter.flush();
  const pos = await readLogPosition(kv, PK);
  assert.equal(pos.folded, pos.seq);
  assert.equal(await foldedCount(kv, PK, { customerId: ids[511]!, periodStart: period.start }), 1);
});

Deno.test("foldLog() folds the rows its caller holds without listing the log, and lists when it holds too few", async () => {
  using real = await Deno.openKv(":memory:");
  const lists = { n: 0 };
  const kv = proxyKv(real, (prop, method) =>
    prop === "list"
      ? (...a: unknown[]) => {
        lists.n++;
        return method(...a);
      }
      : undefined);
  const { held, append } = logWriter(kv);
  for (let seq = 1; seq <= 5; seq++) {
    await append(seq, [["ann", period.start, seq], ["bo", period.start, 1]]);
  }
  // the caller holds 1..5: one fold of those, no list
  assert.equal(await foldLog(kv, PK, { maxRows: 256, now: NOW, held }), 5);
  assert.equal(lists.n, 0);
  assert.equal(await foldedCount(kv, PK, { customerId: "ann", periodStart: period.start }), 15);
  for (let seq = 6; seq <= 8; seq++) await append(seq, [["ann", period.start, 10]]);
  // rows it holds from the watermark on, as far as they go in sequence (here to 7, of 8)
  held.delete(8);
  assert.equal(await foldLog(kv, PK, { maxRows: 256, now: NOW, held }), 7);
  assert.equal(lists.n, 0);
  // the row after the watermark isn't held (another instance wrote it): the log is listed
  held.clear();
  assert.equal(await foldLog(kv, PK, { maxRows: 256, now: NOW, held }), 8);
  assert.equal(lists.n, 1);
  assert.equal(await foldedCount(kv, PK, { customerId: "ann", periodStart: period.start }), 45);
  assert.equal(await foldedCount(kv, PK, { customerId: "bo", periodStart: period.start }), 5);
  // at most maxRows of them
  for (let seq = 9; seq <= 12; seq++) await append(seq, [["bo", period.start, 1]]);
  assert.equal(await foldLog(kv, PK, { maxRows: 3, now: NOW, held }), 11);
  assert.equal(lists.n, 1);
});

Deno.test("foldLog() folds more rows than one commit could delete, then deletes them; sweepFoldedRows() takes what a stopped fold left", async () => {
  using kv = await Deno.openKv(":memory:");
  const { held, append } = logWriter(kv);
  for (let seq = 1; seq <= 1500; seq++) await append(seq, [[`c${seq % 700}`, period.start, 1]]);
  // 1 500 rows of 700 customers: one fold through the buckets (a commit allows 1 000 mutations)
  assert.equal(await foldLog(kv, PK, { maxRows: 2000, now: NOW, held }), 1500);
  const left = async () => {
    let n = 0;
    for await (const _ of kv.list({ prefix: usageKeys.listLog(PK) })) n++;
    return n;
  };
  assert.equal(await left(), 0, "the folded rows are deleted");
  assert.equal(await foldedCount(kv, PK, { customerId: "c1", periodStart: period.start }), 3);
  assert.equal(await foldedCount(kv, PK, { customerId: "c0", periodStart: period.start }), 2);
  // a process stopped after a fold commit and before its deletions: rows at or below the
  // watermark remain, and are swept; rows after it stay
  for (let seq = 1501; seq <= 1510; seq++) await append(seq, [["c1", period.start, 1]]);
  await kv.set(usageKeys.folded(PK), 1505); // as a fold that stopped before deleting would leave
  assert.equal(await sweepFoldedRows(kv, PK), 5);
  assert.equal(await left(), 5);
  assert.equal(await sweepFoldedRows(kv, PK), 0);
});

Deno.test("foldLog() stands when deleting its rows fails: they stay below the watermark until swept", async () => {
  using real = await Deno.openKv(":memory:");
  let commits = 0;
  const kv = proxyKv(real, (prop) =>
    prop === "atomic"
      ? () => {
        const op = real.atomic();
        const commit = op.commit.bind(op);
        op.commit = () => {
          // the appends, then the fold commit; the deletion after it fails
          if (++commits === 4) return Promise.reject(new Error("disk full"));
          return commit();
        };
        return op;
      }
      : undefined);
  const { held, append } = logWriter(kv);
  for (let seq = 1; seq <= 2; seq++) await append(seq, [["dee", period.start, 2]]);
  assert.equal(await foldLog(kv, PK, { maxRows: 256, now: NOW, held }), 2);
  assert.equal(commits, 4);
  assert.equal(await foldedCount(kv, PK, { customerId: "dee", periodStart: period.start }), 4);
  assert.equal(await sweepFoldedRows(kv, PK), 2);
  assert.equal(await foldedCount(kv, PK, { customerId: "dee", periodStart: period.start }), 4);
});

Deno.test("log rows are stored as JSON bytes and the head as a KvU64; rows and a head stored V8-serialised before are read and appended to", async () => {
  using kv = await Deno.openKv(":memory:");
  const { append } = logWriter(kv);
  await append(1, [["ann", period.start, 2], ["bö 名", period.start, 3]]);
  const row = await kv.get(usageKeys.log(PK, 1));
  assert.ok(row.value instanceof Uint8Array);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(row.value)), {
    p: [period.start],
    l: ["ann", 0, 2, "bö 名", 0, 3],
  });
  assert.ok((await kv.get(usageKeys.head(PK))).value instanceof Deno.KvU64);
  assert.deepEqual(await readLog(kv, PK, { afterSeq: 0, uptoSeq: 1 }), [
    { seq: 1, lines: [["ann", period.start, 2], ["bö 名", period.start, 3]] },
  ]);

  // a store written before: a packed row and a plain array of lines, V8-serialised, and the
  // head a number
  using old = await Deno.openKv(":memory:");
  await old.set(usageKeys.log(PK, 1), { p: [period.start], l: ["ann", 0, 2] });
  await old.set(usageKeys.log(PK, 2), [["ann", period.start, 5]]);
  await old.set(usageKeys.head(PK), 2);
  const pos = await readLogPosition(old, PK);
  assert.equal(pos.seq, 2);
  assert.deepEqual((await readLog(old, PK, { afterSeq: 0, uptoSeq: 2 })).map((r) => r.lines), [
    [["ann", period.start, 2]],
    [["ann", period.start, 5]],
  ]);
  // a meter takes it up where it stands: appends under the old head, and folds all three rows
  const meter = new UsageMeter(old, () => NOW);
  const out = await meter.track({
    pk: PK,
    customerId: "ann",
    plan: "p",
    period,
    limit: 100,
    quantity: 1,
  });
  assert.deepEqual(out.kind === "counted" && out.usage.count, 8);
  assert.equal((await readLogPosition(old, PK)).seq, 3);
  await meter.flush(PK);
  assert.equal(await foldedCount(old, PK, { customerId: "ann", periodStart: period.start }), 8);
});
