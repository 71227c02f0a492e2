/** [e2e] kill -9 under load loses no acknowledged increment (server restarted on the same data dir). */
import assert from "node:assert/strict";

const root = new URL("../", import.meta.url).pathname;

function freePort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

function start(dataDir: string, port: number) {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--unstable-kv",
      `${root}main.ts`,
    ],
    env: {
      PORT: String(port),
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_KEY: "0",
      RATE_LIMIT_PER_CUSTOMER: "0",
      LOG_LEVEL: "error",
    },
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function waitUp(base: string) {
  for (let i = 0; i < 300; i++) {
    try {
      const r = await fetch(`${base}/healthz`);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* starting */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("server did not start");
}

Deno.test({
  name: "[e2e] a kill -9 under load loses no acknowledged usage increment",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "dream-kill-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    let server = start(dataDir, port);
    try {
      await waitUp(base);
      const signup = await fetch(`${base}/v1/signup`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: "kill@example.com", password: "kill password 123" }),
      });
      const cookie = signup.headers.get("set-cookie")!.split(";")[0]!;
      await signup.body?.cancel();
      const tok = await (await fetch(`${base}/v1/tokens`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Cookie: cookie, Origin: base },
        body: JSON.stringify({ name: "t" }),
      })).json();
      const proj = await (await fetch(`${base}/v1/projects`, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${tok.secret}` },
        body: JSON.stringify({
          name: "K",
          type: "saas",
          tiers: [{ name: "free", price: 0, limit: null }],
        }),
      })).json();
      const sk = proj.secretKey as string;
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

      server = start(dataDir, port);
      await waitUp(base);
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
  },
});
