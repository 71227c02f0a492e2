import assert from "node:assert/strict";
import { FnvMap, ProjectScopedCache, TtlCache } from "@/lib/cache.ts";
import { fnv1a } from "@/lib/ids.ts";

Deno.test("FnvMap: a Map by string, colliding keys apart, oldest first, deletes while iterating", () => {
  const [a, b] = ["c2ya8", "czki6"];
  assert.equal(fnv1a(a), fnv1a(b));
  const m = new FnvMap<number>();
  m.set("x", 1);
  m.set(a, 2);
  m.set(b, 3);
  m.set("y", 4);
  assert.deepEqual([m.get("x"), m.get(a), m.get(b), m.get("y"), m.get("z"), m.size], [
    1,
    2,
    3,
    4,
    undefined,
    4,
  ]);
  m.set("x", 5); // set again: now the newest
  assert.deepEqual([...m].map(([k]) => k).at(-1), "x");
  for (const [k] of m) if (k !== "y") m.delete(k);
  assert.deepEqual([...m], [["y", 4]]);
  assert.equal(m.size, 1);
  assert.equal(m.delete("y"), true);
  assert.equal(m.delete("y"), false);
  assert.deepEqual([m.size, [...m]], [0, []]);
});

Deno.test("FnvMap: keys whose hashes differ only above the slot's 30 bits are kept apart", () => {
  const [a, b] = ["uadec", "u1fb60"];
  assert.notEqual(fnv1a(a), fnv1a(b));
  assert.equal(fnv1a(a) & 0x3fffffff, fnv1a(b) & 0x3fffffff);
  const m = new FnvMap<string>();
  m.set(a, "A");
  assert.equal(m.get(b), undefined);
  m.set(b, "B");
  assert.deepEqual([m.get(a), m.get(b), m.size], ["A", "B", 2]);
  assert.equal(m.delete(a), true);
  assert.deepEqual([m.get(a), m.get(b), m.size], [undefined, "B", 1]);
});

Deno.test("ProjectScopedCache: entries by project and id; dropping a project leaves the others", () => {
  const c = new ProjectScopedCache<string>();
  c.set("pk_a", "u1", "a1");
  c.set("pk_a", "u2", "a2");
  c.set("pk_b", "u1", "b1");
  assert.equal(c.get("pk_a", "u1"), "a1");
  assert.equal(c.get("pk_b", "u1"), "b1");
  assert.equal(c.get("pk_b", "u2"), undefined);
  assert.deepEqual([c.hits, c.misses], [2, 1]);
  c.set("pk_a", "u1", "a1'"); // replaced, not counted twice
  assert.equal(c.size, 3);
  assert.equal(c.get("pk_a", "u1"), "a1'");

  c.dropProject("pk_a");
  assert.equal(c.get("pk_a", "u1"), undefined);
  assert.equal(c.get("pk_a", "u2"), undefined);
  assert.equal(c.get("pk_b", "u1"), "b1");
  assert.equal(c.size, 1);
  c.dropProject("pk_missing");
  c.delete("pk_b", "u1");
  c.delete("pk_b", "u1");
  assert.equal(c.size, 0);
  assert.equal(c.get("pk_b", "u1"), undefined);
});

Deno.test("ProjectScopedCache: past max, the oldest entry of the longest-held project goes", () => {
  const c = new ProjectScopedCache<number>({ max: 3 });
  c.set("pk_a", "u1", 1);
  c.set("pk_b", "u1", 2);
  c.set("pk_a", "u2", 3);
  c.set("pk_a", "u1", 4); // set again: now pk_a's newest
  c.set("pk_b", "u2", 5); // full: pk_a's oldest (u2) goes
  assert.equal(c.size, 3);
  assert.equal(c.get("pk_a", "u2"), undefined);
  assert.equal(c.get("pk_a", "u1"), 4);
  c.set("pk_c", "u1", 6); // pk_a's last entry goes, and pk_a with it
  c.set("pk_c", "u2", 7); // then pk_b's oldest
  assert.equal(c.size, 3);
  assert.equal(c.get("pk_a", "u1"), undefined);
  assert.equal(c.get("pk_b", "u1"), undefined);
  assert.deepEqual([c.get("pk_b", "u2"), c.get("pk_c", "u1"), c.get("pk_c", "u2")], [5, 6, 7]);
});

Deno.test("ProjectScopedCache: ids whose hashes collide are kept apart", () => {
  const [a, b] = ["c2ya8", "czki6"];
  assert.equal(fnv1a(a), fnv1a(b));
  const c = new ProjectScopedCache<string>();
  c.set("pk", a, "A");
  assert.equal(c.get("pk", b), undefined);
  c.set("pk", b, "B");
  c.set("pk", a, "A2");
  assert.deepEqual([c.get("pk", a), c.get("pk", b), c.size], ["A2", "B", 2]);
  c.delete("pk", b); // the newer of the chain
  assert.deepEqual([c.get("pk", a), c.get("pk", b), c.size], ["A2", undefined, 1]);
  c.set("pk", b, "B");
  c.delete("pk", a); // the older
  assert.deepEqual([c.get("pk", a), c.get("pk", b), c.size], [undefined, "B", 1]);
  c.dropProject("pk");
  assert.equal(c.size, 0);
  c.dropProject("pk");
  assert.equal(c.size, 0);
});

Deno.test("TtlCache: a remembered miss lasts the TTL, a found value stays; bounded by max", () => {
  let now = 0;
  const c = new TtlCache<string | null>({ ttlMs: 100, max: 2, now: () => now });
  c.set("a", "A");
  c.set("none", null);
  now = 150;
  assert.equal(c.get("a"), "A");
  assert.equal(c.get("none"), undefined); // the miss expired
  c.set("b", "B");
  c.set("c", "C"); // full: the oldest ("a") goes
  assert.equal(c.get("a"), undefined);
  c.deleteWhere((k) => k === "b");
  assert.equal(c.get("b"), undefined);
  assert.equal(c.get("c"), "C");
});

Deno.test("ProjectScopedCache.entry(): a reader's note beside the value, gone when the value is set again", () => {
  const c = new ProjectScopedCache<string, number>();
  assert.equal(c.entry("pk_a", "u1"), undefined);
  c.set("pk_a", "u1", "a1");
  const e = c.entry("pk_a", "u1")!;
  assert.deepEqual([e.value, e.aux], ["a1", undefined]);
  e.aux = 7;
  assert.equal(c.entry("pk_a", "u1")!.aux, 7, "kept with the entry");
  assert.deepEqual([c.hits, c.misses], [2, 1]);
  c.set("pk_a", "u1", "a1'");
  assert.deepEqual([c.entry("pk_a", "u1")!.value, c.entry("pk_a", "u1")!.aux], ["a1'", undefined]);
  c.dropProject("pk_a");
  c.set("pk_a", "u1", "a1");
  assert.equal(c.entry("pk_a", "u1")!.aux, undefined, "a new entry starts without one");
});

Deno.test("ProjectScopedCache.fill() caches a record read since mark() unless it was set, deleted or dropped meanwhile", () => {
  const c = new ProjectScopedCache<string>();
  let m = c.mark();
  assert.equal(c.fill("pk_a", "u1", "read", m), true);
  assert.equal(c.get("pk_a", "u1"), "read");
  c.delete("pk_a", "u1");
  // set by the write that changed it while the old one was being read
  m = c.mark();
  c.set("pk_a", "u1", "new");
  assert.equal(c.fill("pk_a", "u1", "old", m), false);
  assert.equal(c.get("pk_a", "u1"), "new");
  // deleted while being read
  m = c.mark();
  c.delete("pk_a", "u1");
  assert.equal(c.fill("pk_a", "u1", "old", m), false);
  assert.equal(c.get("pk_a", "u1"), undefined);
  // the project dropped (its epoch moved) while being read
  m = c.mark();
  c.dropProject("pk_b");
  assert.equal(c.fill("pk_a", "u1", "old", m), false);
  assert.equal(c.fill("pk_a", "u1", "read again", c.mark()), true);
  assert.equal(c.size, 1);
});

Deno.test("TtlCache.fill() caches a value read since mark() unless it was set or deleted meanwhile", () => {
  const c = new TtlCache<string | null>({ ttlMs: 100, now: () => 0 });
  let m = c.mark();
  c.set("k", "new"); // the write that changed it, while the old one was being read
  assert.equal(c.fill("k", "old", m), false);
  assert.equal(c.get("k"), "new");
  m = c.mark();
  c.delete("k"); // revoked while being read
  assert.equal(c.fill("k", "old", m), false);
  assert.equal(c.get("k"), undefined);
  m = c.mark();
  c.deleteWhere(() => false); // a project's entries dropped (its epoch moved)
  assert.equal(c.fill("k", "old", m), false);
  assert.equal(c.fill("k", null, c.mark()), true);
  assert.equal(c.get("k"), null);
});
