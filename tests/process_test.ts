/**
 * [e2e] Process handling: SIGTERM drains in-flight requests and their usage commits, exits 0 and
 * frees the port; under `deno task start` (tasks/start.ts) the server stops when the process that
 * started the task is killed (npx does not pass signals on).
 */
import assert from "node:assert/strict";
import { freePort, seedProject, startServer, waitUp } from "@/tasks/server_process.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const START = new URL("../tasks/start.ts", import.meta.url).pathname;

async function portFree(port: number): Promise<boolean> {
  try {
    const c = await Deno.connect({ port, hostname: "127.0.0.1" });
    c.close();
    return false;
  } catch {
    return true;
  }
}

Deno.test({
  name:
    "[e2e] SIGTERM: in-flight requests finish, every acknowledged increment is kept, exit 0, port free",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "dream-proc-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    try {
      const server = startServer(port, dataDir, { stderr: "null" });
      await waitUp(`${base}/healthz`);
      const { sk } = await seedProject(base, "proc@example.com", {
        name: "P",
        type: "saas",
        tiers: [{ name: "free", price: 0, limit: 100000 }],
      });
      const call = () =>
        fetch(`${base}/api/data`, {
          method: "POST",
          headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "pat" },
        }).then(async (r) => {
          await r.body?.cancel();
          return r.status;
        }).catch(() => 0);
      const inflight = Array.from({ length: 200 }, call);
      await new Promise((r) => setTimeout(r, 5));
      server.kill("SIGTERM");
      const statuses = await Promise.all(inflight);
      const status = await server.status;
      assert.equal(status.code, 0);
      assert.ok(await portFree(port), "the port is free");
      const acknowledged = statuses.filter((s) => s === 200).length;
      // the same store again: every 200 was committed before the exit
      const again = startServer(port, dataDir, { stderr: "null" });
      await waitUp(`${base}/healthz`);
      const u = await (await fetch(`${base}/api/usage`, {
        headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "pat" },
      })).json();
      assert.ok(
        u.usage.count >= acknowledged,
        `${u.usage.count} stored, ${acknowledged} acknowledged`,
      );
      again.kill("SIGTERM");
      assert.equal((await again.status).code, 0);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "[e2e] deno task start's guard: killing the process that started it stops the server",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "dream-orphan-" });
    const port = freePort();
    try {
      // a Deno process stands for npx: it started the server, waits for it, and is killed outright
      const parent = await Deno.makeTempFile({ suffix: ".ts" });
      await Deno.writeTextFile(
        parent,
        `const c = new Deno.Command(Deno.execPath(), { args: ["run", "-A", ${
          JSON.stringify(START)
        }], stdin: "null", stdout: "null", stderr: "null" }).spawn(); await c.status;`,
      );
      const shell = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", parent],
        env: {
          PORT: String(port),
          DATA_DIR: dataDir,
          LOG_LEVEL: "warn",
        },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      await waitUp(`http://127.0.0.1:${port}/healthz`);
      shell.kill("SIGKILL");
      await shell.status;
      let free = false;
      for (let i = 0; i < 60 && !free; i++) {
        await new Promise((r) => setTimeout(r, 100));
        free = await portFree(port);
      }
      assert.ok(free, "the orphaned server stopped and freed its port");
      await Deno.remove(parent);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "[e2e] the server's output is JSON lines only (no plain-text runtime warning)",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dataDir = await Deno.makeTempDir({ prefix: "dream-log-" });
    const port = freePort();
    const base = `http://127.0.0.1:${port}`;
    try {
      const server = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--unstable-kv", MAIN],
        env: { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "debug" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      await waitUp(`${base}/healthz`);
      const { sk, pk, dat } = await seedProject(base, "logs@example.com", {
        name: "L",
        type: "saas",
        tiers: [{ name: "free", price: 0, limit: 5 }],
      });
      const call = async (method: string, path: string, key: string, body?: unknown) => {
        const r = await fetch(base + path, {
          method,
          headers: {
            Authorization: `Bearer ${key}`,
            "X-User-Id": "lou",
            ...(body ? { "Content-Type": "application/json" } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
        await r.body?.cancel();
      };
      await call("POST", "/api/data", sk);
      await call("DELETE", "/api/customers/nobody", sk);
      // a body without Content-Length (chunked) is counted while it streams, and rebuilt
      const chunked = await fetch(`${base}/api/customers`, {
        method: "POST",
        headers: { Authorization: `Bearer ${sk}`, "Content-Type": "application/json" },
        body: ReadableStream.from([new TextEncoder().encode('{"id":"chunky"}')]),
      });
      assert.equal(chunked.status, 201, await chunked.text());
      await call("DELETE", "/api/customers/lou", sk);
      await call("PATCH", `/v1/projects/${pk}`, dat, { name: "L2" });
      await call("DELETE", `/v1/projects/${pk}`, dat);
      server.kill("SIGTERM");
      const out = await server.output();
      const lines = (new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr))
        .split("\n").filter((l) => l.trim());
      assert.ok(lines.length > 3);
      const plain = lines.filter((l) => {
        try {
          JSON.parse(l);
          return false;
        } catch {
          return true;
        }
      });
      assert.deepEqual(plain, []);
    } finally {
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
