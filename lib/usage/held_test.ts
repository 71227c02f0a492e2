import assert from "node:assert/strict";
import { HeldProject } from "@/lib/usage/held.ts";
import { countKey } from "@/lib/kv/usage_buckets.ts";
import { resetLine } from "@/lib/kv/usage.ts";

const P = "2026-12-01T00:00:00.000Z";
const a = countKey("alice", P);
const b = countKey("bob", P);

Deno.test("a loaded count is its folded value plus the rows held after that value's watermark, rows added later included", () => {
  const h = new HeldProject();
  h.committed({ seq: 1, lines: [["alice", P, 2], ["bob", P, 1]] }, "v1", 0);
  h.committed({ seq: 2, lines: [["alice", P, 3]] }, "v2", 0);
  h.load(a, 10, 0); // folded to 0: rows 1 and 2 add 5
  assert.equal(h.count(a), 15);
  h.load(a, 12, 1); // folded to 1 (a fold this instance has not seen yet): row 2 adds 3
  assert.equal(h.count(a), 15);
  // a row added after the index was built is found too
  h.committed({ seq: 3, lines: [["bob", P, 4]] }, "v3", 0);
  h.load(b, 0, 0);
  assert.equal(h.count(b), 5);
  // held counts move with later rows; forgetting folded rows drops them from later loads
  h.committed({ seq: 4, lines: [["alice", P, 1]] }, "v4", 0);
  assert.equal(h.count(a), 16);
  h.forgetFolded(3);
  assert.deepEqual([...h.rows.keys()], [4]);
  h.dropCounts();
  h.load(a, 15, 3);
  assert.equal(h.count(a), 16);
});

Deno.test("a row of ours applied by a catch-up first is not added again; a lost catch-up drops what is held", () => {
  const h = new HeldProject();
  h.load(a, 0, 0);
  h.caughtUp([{ seq: 1, lines: [["alice", P, 2]] }], {
    from: 0,
    lost: false,
    pos: { seq: 1, versionstamp: "v1" },
  });
  assert.equal(h.count(a), 2);
  h.committed({ seq: 1, lines: [["alice", P, 2]] }, "v1", 5);
  assert.equal(h.count(a), 2);
  assert.equal(h.checkedAt, 5);
  // a reset line drops the customer's counts (read again, from zero, when next needed)
  h.load(b, 7, 0);
  h.committed({ seq: 2, lines: [resetLine("alice")] }, "v2", 6);
  assert.deepEqual([...h.counts].map(([k, c]) => [k, c.n]), [[b, 7]]);
  h.caughtUp([{ seq: 9, lines: [["bob", P, 1]] }], {
    from: 8,
    lost: true,
    pos: { seq: 9, versionstamp: "v9" },
  });
  assert.equal(h.counts.size, 0);
  assert.deepEqual([...h.rows.keys()], [9]);
  assert.equal(h.seq, 9);
});

Deno.test("a count's cell stays the same object while its key is held, and dies when it is dropped", () => {
  const h = new HeldProject();
  h.load(a, 3, 0);
  h.load(b, 1, 0);
  const cell = h.counts.get(a)!;
  assert.equal(cell.held, h);
  h.committed({ seq: 1, lines: [["alice", P, 2]] }, "v1", 0);
  assert.equal(h.counts.get(a), cell, "rows add in place");
  assert.deepEqual([cell.n, cell.dead], [5, false]);
  // a reset line kills the customer's cell; a load makes a new one
  h.committed({ seq: 2, lines: [resetLine("alice")] }, "v2", 0);
  assert.equal(cell.dead, true);
  h.load(a, 0, 2);
  const next = h.counts.get(a)!;
  assert.notEqual(next, cell);
  assert.deepEqual([next.n, next.dead], [0, false]);
  // dropping every count (a lost catch-up, too many held) kills every cell
  const bob = h.counts.get(b)!;
  h.caughtUp([], { from: 5, lost: true, pos: { seq: 5, versionstamp: "v5" } });
  assert.deepEqual([next.dead, bob.dead, h.counts.size], [true, true, 0]);
});

Deno.test("a committed row adds through the cells its counts were decided on, and looks up a dead cell's or another holder's key", () => {
  const h = new HeldProject();
  h.load(a, 3, 0);
  h.load(b, 1, 0);
  const alice = h.counts.get(a)!;
  const bob = h.counts.get(b)!;
  // a live cell of this holder is the one held for its key: added to as it is
  h.committed({ seq: 1, lines: [["alice", P, 2], ["bob", P, 1]], cells: [alice, bob] }, "v1", 0);
  assert.deepEqual([alice.n, bob.n], [5, 2]);
  // alice's cell died (reset) and a new one was loaded; bob's given cell is another holder's:
  // both keys are looked up, so the counts held move, and the dead or foreign cells do not
  h.committed({ seq: 2, lines: [resetLine("alice")] }, "v2", 0);
  h.load(a, 0, 2);
  const other = new HeldProject();
  other.load(b, 40, 0);
  const foreign = other.counts.get(b)!;
  h.committed(
    { seq: 3, lines: [["alice", P, 4], ["bob", P, 3]], cells: [alice, foreign] },
    "v3",
    0,
  );
  assert.deepEqual([h.count(a), h.count(b), alice.n, foreign.n], [4, 5, 5, 40]);
  // a line without a cell (a key not held when decided) is looked up too
  h.committed({ seq: 4, lines: [["bob", P, 1]], cells: [undefined] }, "v4", 0);
  assert.equal(h.count(b), 6);
});

Deno.test("a reset line drops every period held of its customer and nobody else's, after counts were shed too", () => {
  const h = new HeldProject();
  const P2 = "2026-11-01T00:00:00.000Z";
  const a2 = countKey("alice", P2);
  const ax = countKey("alicex", P); // another customer whose id starts like alice's
  for (const [k, n] of [[a2, 1], [b, 2], [a, 3], [ax, 4]] as const) h.load(k, n, 0);
  const cells = new Map([...h.counts]);
  h.dropOldest(2, new Set([b])); // the oldest but b: a2 and a
  assert.deepEqual([...h.counts.keys()], [b, ax]);
  assert.ok(cells.get(a2)!.dead && cells.get(a)!.dead && !cells.get(b)!.dead);
  h.load(a, 5, 0);
  h.load(a2, 6, 0);
  h.committed({ seq: 1, lines: [resetLine("alice")] }, "v1", 0);
  assert.deepEqual([...h.counts].map(([k, c]) => [k, c.n]), [[b, 2], [ax, 4]]);
  h.committed({ seq: 2, lines: [resetLine("alicex")] }, "v2", 0);
  assert.deepEqual([...h.counts.keys()], [b]);
  h.dropCounts();
  assert.equal(h.counts.size, 0);
  assert.ok(cells.get(b)!.dead);
  // held again after everything was dropped, and reset again
  h.load(a, 0, 0);
  h.load(b, 1, 0);
  h.committed({ seq: 3, lines: [resetLine("alice")] }, "v3", 0);
  assert.deepEqual([...h.counts.keys()], [b]);
  h.committed({ seq: 4, lines: [resetLine("bob")] }, "v4", 0);
  assert.equal(h.counts.size, 0);
});
