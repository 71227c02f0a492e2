import assert from "node:assert/strict";
import { type Pending, takeBatch } from "@/lib/usage/decide.ts";
import { calendarMonth } from "@/lib/period.ts";

const period = calendarMonth(Date.parse("2026-11-24T12:00:00Z"));
const call = (pk: string, customerId: string, idem?: string): Pending => ({
  req: { pk, customerId, plan: "p", period, limit: null, quantity: 1 },
  ck: `${customerId}\u0000${period.start}`,
  idemKey: idem ? ["idempotency", pk, idem] : null,
  ik: idem ?? null,
  resolve: () => {},
  reject: () => {},
});

Deno.test("takeBatch() takes calls in order up to 100 checks (heads and new idempotency keys)", () => {
  // 3 projects (3 heads) and 120 distinct idempotency keys: 97 keyed calls fit
  const queue = Array.from({ length: 120 }, (_, i) => call(`pk_${i % 3}`, `c${i}`, `k${i}`));
  const { batch, rest } = takeBatch(queue);
  assert.equal(batch.length, 97);
  assert.deepEqual(
    [...batch, ...rest].map((p) => p.req.customerId).sort(),
    queue.map((p) => p.req.customerId).sort(),
  );
  assert.deepEqual(batch, queue.slice(0, 97));
});

Deno.test("takeBatch() stops at 512 calls, and at a log row whose tally keys would pass 60 KiB", () => {
  const plain = Array.from({ length: 600 }, (_, i) => call("pk_a", `c${i}`));
  assert.equal(takeBatch(plain).batch.length, 512);
  const long = Array.from({ length: 600 }, (_, i) => call("pk_a", `${i}`.padStart(128, "z")));
  const { batch, rest } = takeBatch(long);
  assert.ok(batch.length < 512 && batch.length > 200, `${batch.length} calls of 128-char ids`);
  assert.equal(batch.length + rest.length, 600);
  // the bound is per project's row: a second project's calls still join the batch
  const mixed = [...long.slice(0, 400), call("pk_b", "short")];
  assert.ok(takeBatch(mixed).batch.some((p) => p.req.pk === "pk_b"));
});
