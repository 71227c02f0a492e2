/** [ops] The Dockerfile and the systemd unit say what the README promises (no Docker daemon here). */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
/** The Deno this suite runs on: the image must be the same. */
const denoVersion = Deno.version.deno;

Deno.test("[ops] Dockerfile: the official Deno image of our version, non-root, DATA_DIR volume, healthcheck, deno itself as the command", async () => {
  const f = await Deno.readTextFile(new URL("Dockerfile", ROOT));
  assert.match(f, new RegExp(`^FROM denoland/deno:${denoVersion.replaceAll(".", "\\.")}$`, "m"));
  assert.match(f, /^USER deno$/m);
  assert.match(f, /^ENV DATA_DIR=\/data/m);
  assert.match(f, /^VOLUME \["\/data"\]$/m);
  assert.match(f, /^HEALTHCHECK .*\n.*\/healthz/m);
  assert.match(f, /^CMD \["run", .*"main\.ts"\]$/m, "no npx, no task: signals reach the server");
});

Deno.test("[ops] systemd unit: runs deno directly with SIGTERM and a state directory; systemd-analyze accepts it", async () => {
  const path = new URL("deploy/dream-api.service", ROOT).pathname;
  const f = await Deno.readTextFile(path);
  assert.match(f, /^ExecStart=\S*deno run .*main\.ts$/m);
  assert.match(f, /^KillSignal=SIGTERM$/m);
  assert.match(f, /^Environment=DATA_DIR=\/var\/lib\/dream-api$/m);
  const analyze = await new Deno.Command("systemd-analyze", { args: ["verify", path] }).output()
    .catch(() => null);
  if (analyze) {
    const err = new TextDecoder().decode(analyze.stderr);
    // a missing binary or user on this machine is not the unit's fault
    const real = err.split("\n").filter((l) =>
      l.trim() && !/not executable|No such file|user|Failed to/.test(l)
    );
    assert.deepEqual(real, []);
  }
});
