import assert from "node:assert/strict";
import { fromJsonBytes, jsonBytes, seqOf, seqValue, utf8Bytes } from "@/lib/kv/_bytes.ts";

Deno.test("utf8Bytes() gives each text a region of its own, never written again", () => {
  const texts = ["ann", "bö 名 🙂", "x".repeat(70_000), "", "after the large one"];
  const out = texts.map(utf8Bytes);
  // many more, which fill and replace slabs: none touches the regions given before
  for (let i = 0; i < 5_000; i++) utf8Bytes(`{"n":${i},"pad":"${"y".repeat(40)}"}`);
  out.forEach((bytes, i) => {
    assert.equal(new TextDecoder().decode(bytes), texts[i]);
    assert.deepEqual(bytes, new TextEncoder().encode(texts[i]));
  });
});

Deno.test("jsonBytes() round-trips through fromJsonBytes(); seqOf() reads a KvU64 or an older number", () => {
  const v = { p: ["2026-12-01T00:00:00.000Z"], l: ["ann", 0, 2, 'bö\u0000"', 0, 1_000_000] };
  assert.deepEqual(fromJsonBytes(jsonBytes(v)), v);
  assert.equal(seqOf(seqValue(12_345_678)), 12_345_678);
  assert.equal(seqOf(41), 41);
  assert.equal(seqOf(null), 0);
});
