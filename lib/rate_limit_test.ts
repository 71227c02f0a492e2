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
