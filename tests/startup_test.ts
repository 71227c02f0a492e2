/** [e2e] Start-up: private data files, one clear line and exit 1 on a wrong setting; /healthz probes writes. */
import assert from "node:assert/strict";
import { freePort, waitUp } from "@/tasks/server_process.ts";
import { proxyKv, testApp } from "@/tests/helpers.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** Runs main.ts with `env` until it exits (or `stopAfterUp` once /healthz answers). */
async function runMain(env: Record<string, string>, stopAfterUp = false) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", MAIN],
    env: { PORT: String(port), LOG_LEVEL: "warn", ...env },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stopAfterUp) {
    await waitUp(`http://127.0.0.1:${port}/healthz`);
    child.kill("SIGTERM");
  }
  const out = await child.output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr).trim() };
}

const mode = async (path: string) => ((await Deno.stat(path)).mode! & 0o777).toString(8);

Deno.test("[e2e] DATA_DIR and its files are private to the server's user", async () => {
  const parent = await Deno.makeTempDir();
  try {
    const dir = `${parent}/data`;
    const run = await runMain({ DATA_DIR: dir }, true);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(await mode(dir), "700");
    for (const f of ["kv.sqlite3", "app_secret"]) assert.equal(await mode(`${dir}/${f}`), "600", f);
    // an existing world-readable store is tightened at the next start
    await Deno.chmod(dir, 0o755);
    await Deno.chmod(`${dir}/kv.sqlite3`, 0o644);
    assert.equal((await runMain({ DATA_DIR: dir }, true)).code, 0);
    assert.equal(await mode(dir), "700");
    assert.equal(await mode(`${dir}/kv.sqlite3`), "600");
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("[e2e] a wrong setting stops start-up with one line naming it and exit code 1", async () => {
  const parent = await Deno.makeTempDir();
  try {
    const file = `${parent}/not-a-dir`;
    await Deno.writeTextFile(file, "x");
    const shortSecretDir = `${parent}/short`;
    await Deno.mkdir(shortSecretDir);
    await Deno.writeTextFile(`${shortSecretDir}/app_secret`, "abcde");
    const cases: [Record<string, string>, RegExp][] = [
      [{ DATA_DIR: file }, /^DATA_DIR .*not-a-dir/],
      [{ DATA_DIR: `${file}/sub` }, /^DATA_DIR /],
      [{ DATA_DIR: shortSecretDir }, /app_secret.*at least 32 characters/],
      [{ DATA_DIR: `${parent}/ok`, APP_SECRET: "short" }, /APP_SECRET/],
      [{ DATA_DIR: `${parent}/ok`, PORT: "eighty" }, /PORT/],
    ];
    for (const [env, expected] of cases) {
      const run = await runMain(env);
      assert.equal(run.code, 1, JSON.stringify(env));
      assert.equal(run.stderr.split("\n").length, 1, `one line, no stack: ${run.stderr}`);
      assert.match(run.stderr, expected);
    }
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
});

Deno.test("GET /healthz answers 503 when the store can't be written", async () => {
  const real = await Deno.openKv(":memory:");
  let full = false;
  // a store whose writes fail, as on a full disk; reads still answer
  const kv = proxyKv(real, (prop) =>
    full && (prop === "set" || prop === "atomic")
      ? () => {
        throw new TypeError("database or disk is full");
      }
      : undefined);
  await using app = await testApp({ kv });
  assert.equal((await app.call("GET", "/healthz")).status, 200);
  full = true;
  const down = await app.call("GET", "/healthz");
  assert.equal(down.status, 503);
  assert.equal(down.body.error.code, "service_unavailable");
  assert.match(down.body.error.message, /can't be written/);
  full = false;
  assert.equal((await app.call("GET", "/healthz")).status, 200);
  real.close();
});
