/** [e2e] kill -9 under load loses no acknowledged increment (server restarted on the same data dir). */
import assert from "node:assert/strict";
import { freePort, seedProject, startServer, waitUp } from "@/tasks/server_process.ts";

function start(dataDir: string, port: number, env: Record<string, string> = {}) {
  return startServer(port, dataDir, { logLevel: "error", stderr: "null", env });
}

/**
 * Load from 32 workers, then kill -9; after a restart every acknowledged increment is stored.
 * `env` tunes the server: with USAGE_FOLD_ROWS=1 the meter folds after every batch (through the
 * tally buckets with USAGE_BUCKET_AT=1), so the kill lands in the middle of folds too.
 */
async function killUnderLoad(env: Record<string, string>) {
  const dataDir = await Deno.makeTempDir({ prefix: "dream-kill-" });
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  let server = start(dataDir, port, env);
  try {
    await waitUp(`${base}/healthz`);
    const { sk } = await seedProject(base, "kill@example.com", {
      name: "K",
      type: "saas",
      tiers: [{ name: "free", price: 0, limit: null }],
    });
    const customers = Array.from({ length: 8 }, (_, i) => `c${i}`);
    const acked = new Map(customers.map((c) => [c, 0]));
    let inFlight = 0;
    let maxInFlight = 0;
    let stop = false;
    const worker = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const c = customers[(w + i) % customers.length]!;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        try {
          const r = await fetch(`${base}/api/data`, {
            method: "POST",
            headers: { Authorization: `Bearer ${sk}`, "X-User-Id": c },
          });
          await r.body?.cancel();
          if (r.status === 200) acked.set(c, acked.get(c)! + 1);
        } catch {
          stop = true; // the server is gone
        } finally {
          inFlight--;
        }
      }
    };
    const workers = Array.from({ length: 32 }, (_, w) => worker(w));
    await new Promise((r) => setTimeout(r, 1500));
    server.kill("SIGKILL");
    await server.status;
    stop = true;
    await Promise.all(workers);
    const totalAcked = [...acked.values()].reduce((a, b) => a + b, 0);
    assert.ok(totalAcked > 500, `load reached the server (${totalAcked} acknowledged)`);

    server = start(dataDir, port, env);
    await waitUp(`${base}/healthz`);
    for (const c of customers) {
      const u = await (await fetch(`${base}/api/usage`, {
        headers: { Authorization: `Bearer ${sk}`, "X-User-Id": c },
      })).json();
      const stored = u.usage.count as number;
      assert.ok(
        stored >= acked.get(c)!,
        `${c}: ${acked.get(c)} acknowledged but only ${stored} stored`,
      );
      assert.ok(
        stored - acked.get(c)! <= maxInFlight,
        `${c}: ${stored} stored for ${acked.get(c)} acknowledged`,
      );
    }
  } finally {
    server.kill("SIGKILL");
    await server.status.catch(() => {});
    await Deno.remove(dataDir, { recursive: true });
  }
}

Deno.test({
  name: "[e2e] a kill -9 under load loses no acknowledged usage increment",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () => killUnderLoad({}),
});

Deno.test({
  name: "[e2e] a kill -9 while the meter folds its log loses nothing and counts nothing twice",
  sanitizeOps: false,
  sanitizeResources: false,
  // every batch folded, through the tally buckets
  fn: () => killUnderLoad({ USAGE_FOLD_ROWS: "1", USAGE_BUCKET_AT: "1" }),
});
