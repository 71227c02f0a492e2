import assert from "node:assert/strict";
import { newPublishableKey, newSecretKey, PK_RE, randomBase62, SK_RE, ulid } from "@/lib/ids.ts";

Deno.test("randomBase62() gives the asked length from the base62 alphabet", () => {
  const s = randomBase62(500);
  assert.equal(s.length, 500);
  assert.match(s, /^[0-9A-Za-z]+$/);
  assert.notEqual(randomBase62(22), randomBase62(22));
});

Deno.test("ulid() sorts in creation order, even within one millisecond", () => {
  const ids = Array.from({ length: 1000 }, () => ulid(1_700_000_000_000));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 1000);
  assert.ok(ulid(1_800_000_000_000) > ids[999]!);
});

Deno.test("keys carry their mode and match the contract's formats", () => {
  assert.match(newPublishableKey("live"), /^pk_live_/);
  assert.match(newSecretKey("test"), /^sk_test_/);
  assert.ok(PK_RE.test(newPublishableKey("test")));
  assert.ok(SK_RE.test(newSecretKey("live")));
});
