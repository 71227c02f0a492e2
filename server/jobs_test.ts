import assert from "node:assert/strict";
import { guarded, startJobs } from "@/server/jobs.ts";
import { memoryLogger } from "@/lib/logger.ts";

Deno.test("guarded() never lets a job overlap itself and logs each run's duration", async () => {
  const logger = memoryLogger();
  let running = 0, most = 0, runs = 0;
  let release = () => {};
  const run = guarded({
    name: "slow",
    everyMs: 10,
    run: async () => {
      running++;
      runs++;
      most = Math.max(most, running);
      await new Promise<void>((r) => (release = r));
      running--;
      return 3;
    },
  }, logger);
  const first = run();
  await run(); // skipped: the first is still running
  await run();
  release();
  await first;
  assert.equal(runs, 1);
  assert.equal(most, 1);
  assert.equal(logger.lines.find((l) => l.msg === "job done")?.fields?.job, "slow");
  assert.equal(typeof logger.lines.find((l) => l.msg === "job done")?.fields?.ms, "number");
});

Deno.test("startJobs() runs interval jobs until stopped; failures are logged, not thrown", async () => {
  const logger = memoryLogger();
  let n = 0;
  const jobs = startJobs([
    { name: "count", everyMs: 5, run: () => Promise.resolve(n++) },
    { name: "broken", everyMs: 5, run: () => Promise.reject(new Error("boom")) },
  ], logger);
  await new Promise((r) => setTimeout(r, 40));
  jobs.stop();
  const after = n;
  await new Promise((r) => setTimeout(r, 20));
  assert.ok(after >= 2, `ran ${after} times`);
  assert.equal(n, after, "stopped");
  assert.ok(logger.lines.some((l) => l.msg === "job failed" && l.fields?.job === "broken"));
});
