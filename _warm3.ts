import { freePort, seedProject, startServer, waitUp } from "./tasks/server_process.ts";
import { replayScript, wrk } from "./tasks/wrk.ts";
import { seedStore } from "./tasks/seed_store.ts";
const port = freePort(); const dir = await Deno.makeTempDir();
const env = { METRICS_TOKEN: "metrics-token-0123456789" };
let child = startServer(port, dir, { env });
const base = `http://127.0.0.1:${port}`; await waitUp(`${base}/healthz`);
const p = await seedProject(base, "p@example.com", { name: "P", type: "saas", tiers: [{ name: "free", price: 0, limit: 1e9 }] });
child.kill("SIGTERM"); await child.status;
if (Deno.args[0] !== "noseed") await seedStore(dir, p.pk, 100000, 1000000);
child = startServer(port, dir, { env }); await waitUp(`${base}/healthz`);
const users = Number(Deno.args[1] ?? 10000);
const script = replayScript({ method: "POST", path: "/api/data", sk: p.sk, users, userOf: `user = "seed_" .. k` });
let prev: Record<string, number> = {};
async function metrics() {
  const t = await (await fetch(`${base}/metrics`, { headers: { Authorization: `Bearer ${env.METRICS_TOKEN}` } })).text();
  const pick = (re: RegExp) => t.split("\n").filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(" ").at(-1)), 0);
  const cur = {
    fullApp: pick(/^dream_http_requests_total\{route="\/api\/data"/),
    batches: pick(/^dream_meter_batch_size_count/),
    calls: pick(/^dream_meter_batch_size_sum/),
    folds: pick(/^dream_meter_fold_seconds_count/),
    foldSec: pick(/^dream_meter_fold_seconds_sum/),
    commitSec: pick(/^dream_meter_commit_seconds_sum/),
  };
  const d = Object.fromEntries(Object.entries(cur).map(([k, v]) => [k, +(v - (prev[k] ?? 0)).toFixed(3)]));
  prev = cur;
  const hit = /dream_cache_hit_ratio\{cache="customers"\} ([\d.]+)/.exec(t)?.[1];
  const unfolded = /dream_meter_unfolded_rows ([\d.]+)/.exec(t)?.[1];
  return { ...d, custHit: hit, unfolded };
}
for (let i = 0; i < 8; i++) {
  const r = await wrk(`${base}/api/data`, script, { seconds: "2", connections: 64 });
  console.log(`round ${i}: rps ${r.rps.toFixed(0)} p99 ${r.p99}`, JSON.stringify(await metrics()));
}
child.kill("SIGTERM"); await child.status;
