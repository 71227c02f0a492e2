import assert from "node:assert/strict";
import { Gate } from "@/lib/gate.ts";
import { RateLimitedError } from "@/lib/errors.ts";

Deno.test("Gate runs at most `concurrency` at once and refuses past its queue", async () => {
  const gate = new Gate(1, 2);
  let running = 0;
  let most = 0;
  const releases: (() => void)[] = [];
  const job = () =>
    gate.run(async () => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return "done";
    });
  const jobs = [job(), job(), job()];
  await assert.rejects(job(), RateLimitedError, "the fourth finds the line full");
  while (releases.length || running) {
    await new Promise((r) => setTimeout(r, 1));
    releases.shift()?.();
  }
  assert.deepEqual(await Promise.all(jobs), ["done", "done", "done"]);
  assert.equal(most, 1);
  assert.equal(await gate.run(() => Promise.resolve(7)), 7, "slots come back after failures too");
});
