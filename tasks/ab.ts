/**
 * `deno task ab`: two versions of the server, side by side, on this machine's noise.
 *
 * Starts `main.ts` of checkout A and of checkout B (e.g. two `git worktree`s) on fresh data dirs,
 * creates the same SaaS project on each, warms each with `POST /api/data` from every customer,
 * then runs ROUNDS rounds of wrk (-t2 -c64, SECONDS each) on A and on B, alternating which goes
 * first, and prints each round's B/A throughput ratio, their median and each side's median p99.
 * Single rounds swing ±30 % on a shared 2-core VM; the median over 16 – 30 rounds repeats within
 * a few per cent, where `deno task bench` run twice an hour apart does not.
 *   deno task ab <checkout A> <checkout B>
 * Either side may be `ceiling` (tasks/kv_bound.ts, for POST), `floor` (tasks/bare_server.ts
 * headers, for GET) or `bare` (tasks/bare_server.ts bare: a bare Deno.serve, what issue 13's GET
 * goal is a ratio of) instead of a checkout: issue 13's yardsticks, measured the same way.
 * Env: AB_CUSTOMERS (200), AB_ROUNDS (16), AB_SECONDS (2), AB_METHOD (POST | GET), AB_MIX=1 (a
 * quarter of the customers on a tier of 100 calls, refused once there, as in the bench),
 * AB_ENV_A / AB_ENV_B (JSON: extra environment for that server, e.g. {"USAGE_FOLD_ROWS":"256"}),
 * AB_SEED=N (a checkout's store seeded first with N other customers and 10 usage events each, as
 * the bench's is; AB_SEED_A / AB_SEED_B for one side only).
 * Each round also prints each server's main-thread CPU per answer (Linux /proc). Side A is warmed
 * again once B is ready: left idle meanwhile, it had answered POST ~7 – 10 % slower than B with
 * 10 000 customers whichever server it was (docs/performance_journal.md, the sixth session).
 */
import { freePort, seedProject, startServer, startTask, waitUp } from "./server_process.ts";
import { median, replayScript, wrk } from "./wrk.ts";
import { seedStore } from "./seed_store.ts";

const [rootA, rootB] = Deno.args;
if (!rootA || !rootB) throw new Error("usage: deno task ab <checkout A> <checkout B>");
const CUSTOMERS = Number(Deno.env.get("AB_CUSTOMERS") ?? 200);
const ROUNDS = Number(Deno.env.get("AB_ROUNDS") ?? 16);
const SECONDS = Deno.env.get("AB_SECONDS") ?? "2";
const METHOD = Deno.env.get("AB_METHOD") ?? "POST";
const MIX = Deno.env.get("AB_MIX") === "1";
const enc = new TextEncoder();
const print = (m: string) => Deno.stdout.writeSync(enc.encode(m + "\n"));

const script = (sk: string, method: string) =>
  replayScript({
    method,
    path: method === "GET" ? "/api/usage" : "/api/data",
    sk,
    users: CUSTOMERS,
    userOf: `user = "u_" .. k`,
  });
const run = (url: string, lua: string, seconds: string) =>
  wrk(url, lua, { seconds, connections: 64 });

type Yardstick = "ceiling" | "floor" | "bare";
const isYardstick = (root: string): root is Yardstick =>
  root === "ceiling" || root === "floor" || root === "bare";

/** Starts a yardstick server of this checkout, warmed. */
async function yardstick(kind: Yardstick) {
  const dataDir = await Deno.makeTempDir({ prefix: "dream-ab-" });
  const { port, child } = kind === "ceiling"
    ? await startTask("kv_bound.ts", ["-A", "--unstable-kv"], [dataDir])
    : await startTask("bare_server.ts", ["--allow-net"], [kind === "floor" ? "headers" : "bare"]);
  const base = `http://127.0.0.1:${port}`;
  const url = `${base}${METHOD === "GET" ? "/api/usage" : "/api/data"}`;
  const sk = `sk_test_${"0".repeat(32)}`; // read, never looked up
  const warm = () => run(url, script(sk, METHOD), "2");
  await warm();
  return { child, dataDir, warm, run: () => run(url, script(sk, METHOD), SECONDS) };
}

/** Starts one checkout's server and makes it ready: project, customers, warm caches. */
async function side(root: string, extraEnv: string | undefined, seed: number) {
  if (isYardstick(root)) return await yardstick(root);
  const port = freePort();
  const dataDir = await Deno.makeTempDir({ prefix: "dream-ab-" });
  const start = () =>
    startServer(port, dataDir, {
      main: `${root}/main.ts`,
      cwd: root,
      env: extraEnv ? JSON.parse(extraEnv) : {},
    });
  let child = start();
  const base = `http://127.0.0.1:${port}`;
  await waitUp(`${base}/healthz`);
  const { sk, pk } = await seedProject(base, "ab@example.com", {
    name: "AB",
    type: "saas",
    tiers: [{ name: "free", price: 0, limit: 1_000_000_000 }, {
      name: "tiny",
      price: 0,
      limit: 100,
    }],
  });
  for (let k = Math.floor(CUSTOMERS * 0.75); MIX && k < CUSTOMERS; k++) {
    const r = await fetch(`${base}/api/customers`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${sk}` },
      body: JSON.stringify({ id: `u_${k}`, plan: "tiny" }),
    });
    await r.body?.cancel();
  }
  if (seed > 0) {
    child.kill("SIGTERM");
    await child.status;
    await seedStore(dataDir, pk, seed, seed * 10);
    child = start();
    await waitUp(`${base}/healthz`);
  }
  // first sight of every customer (its record and count read): not what is compared
  const warm = () => run(`${base}/api/data`, script(sk, "POST"), CUSTOMERS > 1000 ? "15" : "3");
  await warm();
  const url = `${base}${METHOD === "GET" ? "/api/usage" : "/api/data"}`;
  return { child, dataDir, warm, run: () => run(url, script(sk, METHOD), SECONDS) };
}

/** A process's main-thread CPU time so far (s), from /proc (Linux); NaN elsewhere. */
function mainThreadSeconds(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/stat`);
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks
  } catch {
    return NaN;
  }
}

/**
 * One round of a side, with its server's main-thread CPU over the round: how busy it was and
 * its CPU per answer. A server bound by its main thread answers at 1 / (CPU per answer), so
 * the per-answer time says where a difference comes from even when the VM drifts.
 */
async function timed(s: Awaited<ReturnType<typeof side>>) {
  const pid = s.child.pid;
  const [cpu0, t0] = [mainThreadSeconds(pid), performance.now()];
  const r = await s.run();
  const busy = (mainThreadSeconds(pid) - cpu0) / ((performance.now() - t0) / 1000);
  return { ...r, busy, cpu: busy * 1e6 / r.rps };
}

const seedOf = (s: "A" | "B") =>
  Number(Deno.env.get(`AB_SEED_${s}`) ?? Deno.env.get("AB_SEED") ?? 0);
const a = await side(rootA, Deno.env.get("AB_ENV_A"), seedOf("A"));
const b = await side(rootB, Deno.env.get("AB_ENV_B"), seedOf("B"));
// A again: left idle while B was set up and warmed, it answered ~7 – 10 % slower than B for the
// whole run (the same checkout on both sides, 10 000 customers: 1.071; warmed again: 0.989)
await a.warm();
const ratios: number[] = [];
const p99s: [number[], number[]] = [[], []];
for (let round = 0; round < ROUNDS; round++) {
  const [first, second] = round % 2 ? [b, a] : [a, b];
  const r1 = await timed(first);
  const r2 = await timed(second);
  const [wa, wb] = round % 2 ? [r2, r1] : [r1, r2];
  const [ra, rb] = [wa.rps, wb.rps];
  ratios.push(rb / ra);
  p99s[0].push(wa.p99);
  p99s[1].push(wb.p99);
  print(
    `round ${round + 1}: A ${ra.toFixed(0)} (p99 ${wa.p99.toFixed(1)} ms)  B ${
      rb.toFixed(0)
    } (p99 ${wb.p99.toFixed(1)} ms)  B/A ${(rb / ra).toFixed(2)}  main thread A ${
      wa.cpu.toFixed(1)
    } µs/answer (${wa.busy.toFixed(2)} busy)  B ${wb.cpu.toFixed(1)} µs (${wb.busy.toFixed(2)})`,
  );
}
print(
  `${METHOD} ${CUSTOMERS} customers${MIX ? " (mix)" : ""}${
    seedOf("A") || seedOf("B") ? `, seeded A ${seedOf("A")} B ${seedOf("B")}` : ""
  }, ${ROUNDS} rounds of ${SECONDS} s: ` +
    `B/A median ${median(ratios).toFixed(3)}, mean ${
      (ratios.reduce((x, y) => x + y, 0) / ratios.length).toFixed(3)
    }; p99 median A ${median(p99s[0]).toFixed(1)} ms, B ${median(p99s[1]).toFixed(1)} ms`,
);
for (const s of [a, b]) {
  s.child.kill("SIGTERM");
  await s.child.status;
  await Deno.remove(s.dataDir, { recursive: true });
}
