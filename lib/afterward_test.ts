import assert from "node:assert/strict";
import { afterward, retried } from "@/lib/afterward.ts";
import { memoryLogger } from "@/lib/logger.ts";
import { NotFoundError } from "@/lib/errors.ts";

Deno.test("afterward() retries work that failed for a moment, and logs what keeps failing without throwing", async () => {
  const logs = memoryLogger();
  let calls = 0;
  const flaky = (failures: number) => () => {
    calls++;
    return calls <= failures ? Promise.reject(new Error("down")) : Promise.resolve();
  };
  assert.equal(await afterward(logs, "not done", { id: 1 }, flaky(2)), true);
  assert.equal(calls, 3);
  assert.equal(logs.lines.length, 0);
  calls = 0;
  assert.equal(await afterward(logs, "not done", { id: 2 }, flaky(99)), false);
  assert.equal(calls, 3);
  assert.deepEqual(logs.lines.map((l) => [l.level, l.msg, l.fields]), [
    ["error", "not done", { id: 2, error: "Error: down" }],
  ]);
});

Deno.test("retried() answers what the work answers once it goes through, else throws its last error", async () => {
  let calls = 0;
  const work = (failures: number) => () => {
    calls++;
    return calls <= failures ? Promise.reject(new Error(`down ${calls}`)) : Promise.resolve(calls);
  };
  assert.equal(await retried(work(2)), 3);
  calls = 0;
  await assert.rejects(retried(work(99)), /down 3/);
  assert.equal(calls, 3);
  // a domain error is the answer: not tried again
  calls = 0;
  await assert.rejects(
    retried(() => {
      calls++;
      return Promise.reject(new NotFoundError("No customer"));
    }),
    NotFoundError,
  );
  assert.equal(calls, 1);
});
