import assert from "node:assert/strict";
import { RateLimiter } from "@/lib/rate_limit.ts";

Deno.test("RateLimiter.take() allows a burst of `rate`, then asks to wait, then refills", () => {
  let now = 1_000;
  const rl = new RateLimiter(() => now);
  for (let i = 0; i < 5; i++) assert.equal(rl.take("k", 5), 0);
  const wait = rl.take("k", 5);
  assert.ok(wait > 0 && wait <= 0.2, `wait ${wait}`);
  now += 200;
  assert.equal(rl.take("k", 5), 0);
  assert.ok(rl.take("k", 5) > 0);
  assert.equal(rl.take("other", 5), 0, "buckets are per key");
});

Deno.test("RateLimiter.take() with rate 0 never limits", () => {
  const rl = new RateLimiter(() => 0);
  for (let i = 0; i < 1000; i++) assert.equal(rl.take("k", 0), 0);
});

Deno.test("RateLimiter: keys whose hashes collide keep their own buckets", () => {
  const [a, b] = ["c2ya8", "czki6"]; // the same FNV-1a
  const rl = new RateLimiter(() => 0);
  assert.equal(rl.take(a, 1), 0);
  assert.ok(rl.take(a, 1) > 0);
  assert.equal(rl.take(b, 1), 0, "b has its own bucket");
  assert.ok(rl.take(b, 1) > 0);
  assert.ok(rl.take(a, 1) > 0);
});

Deno.test("RateLimiter: past 100 000 buckets, the full ones are swept and the others kept", () => {
  let now = 0;
  const rl = new RateLimiter(() => now);
  assert.equal(rl.take("busy", 2), 0);
  assert.equal(rl.take("busy", 2), 0); // empty now
  for (let i = 0; i < 100_001; i++) rl.take(`quiet_${i}`, 2); // one token each: not full yet
  now = 600; // quiet buckets full again (1 + 1.2); "busy" at 1.2 tokens: not full
  rl.take("new", 2); // triggers the sweep
  assert.equal(rl.size, 2, "busy and new are left");
  assert.equal(rl.take("busy", 2), 0);
  assert.ok(rl.take("busy", 2) > 0, "busy kept its bucket (1.2 tokens, not a fresh 2)");
});
