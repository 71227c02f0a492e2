/** [ops] deno task backup / restore: a round trip keeps every key, value and expiry. */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";

const ROOT = new URL("../", import.meta.url).pathname;

async function task(name: string, args: string[], dataDir: string) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: ROOT,
    env: { DATA_DIR: dataDir, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, err: new TextDecoder().decode(out.stderr) };
}

async function expirations(file: string) {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(file, { readOnly: true });
  const rows = db.prepare("SELECT expiration_ms FROM kv WHERE expiration_ms >= 0").all() as {
    expiration_ms: number;
  }[];
  db.close();
  return rows.map((r) => Number(r.expiration_ms)).sort();
}

Deno.test("[ops] backup while the store is open and written, restore into an empty DATA_DIR: every key, value and expiry", async () => {
  const from = await Deno.makeTempDir({ prefix: "bk-from-" });
  const to = await Deno.makeTempDir({ prefix: "bk-to-" });
  const file = `${from}/backup.jsonl`;
  try {
    const kv = await Deno.openKv(`${from}/kv.sqlite3`);
    const entries: [Deno.KvKey, unknown][] = [
      [["s", "text"], "hello"],
      [["n", 1.5, -2.25, 0], { nested: { a: [1, "b", null] } }],
      [["b", true, false], 42],
      [["big", 0n, 7n, -1n, -300n, 12345678901234567890n], "bigints"],
      [["bytes", new Uint8Array([0, 1, 255])], new Uint8Array([9, 0, 8])],
      [["u64"], new Deno.KvU64(18446744073709551615n)],
      [["typed"], { at: new Date("2026-11-24T12:00:00Z"), n: 5n, raw: new Uint8Array([1, 2]) }],
      [["esc", "a\u0000b"], "a key with a NUL"],
      // a usage tally bucket: property names with a NUL in them
      [["usage_bucket", "pk_test_x", 3], { "cus_1\u00002026-12-01T00:00:00.000Z": 7 }],
    ];
    for (const [k, v] of entries) await kv.set(k, v);
    await kv.set(["expiring"], "soon", { expireIn: 3_600_000 });
    // the "server" keeps writing while the backup runs
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) await kv.set(["live", i], i);
    })();
    const bk = await task("backup", [file], from);
    writing = false;
    await writer;
    assert.equal(bk.code, 0, bk.err);
    const expected = new Map<string, unknown>();
    const text = await Deno.readTextFile(file);
    const snapshot = text.trim().split("\n").slice(1).map((l) => JSON.parse(l).key);
    const liveInBackup = snapshot.filter((k: unknown[]) => k[0] === "live").length;
    for await (const e of kv.list({ prefix: [] })) {
      if (e.key[0] === "live" && Number(e.key[1]) >= liveInBackup) continue; // written after
      expected.set(JSON.stringify(e.key, (_, v) => typeof v === "bigint" ? `${v}n` : v), e.value);
    }
    const before = await expirations(`${from}/kv.sqlite3`);
    kv.close();
    assert.ok((await Deno.stat(file)).mode! & 0o600);

    const rs = await task("restore", [file], to);
    assert.equal(rs.code, 0, rs.err);
    const restored = await Deno.openKv(`${to}/kv.sqlite3`);
    const got = new Map<string, unknown>();
    for await (const e of restored.list({ prefix: [] })) {
      got.set(JSON.stringify(e.key, (_, v) => typeof v === "bigint" ? `${v}n` : v), e.value);
    }
    restored.close();
    assert.deepEqual(got, expected);
    const after = await expirations(`${to}/kv.sqlite3`);
    assert.equal(after.length, before.length);
    after.forEach((t, i) => assert.ok(Math.abs(t - before[i]!) < 5_000, "expiry kept"));

    const again = await task("restore", [file], to);
    assert.equal(again.code, 1);
    assert.match(again.err, /not empty/);
    const forced = await task("restore", [file, "--force"], to);
    assert.equal(forced.code, 0, forced.err);
  } finally {
    await Deno.remove(from, { recursive: true });
    await Deno.remove(to, { recursive: true });
  }
});

Deno.test("[ops] after a restore the same secret key works and sees the same usage", async () => {
  const from = await Deno.makeTempDir({ prefix: "bk-app-" });
  const to = await Deno.makeTempDir({ prefix: "bk-app2-" });
  try {
    let sk = "";
    {
      await using kv = await Deno.openKv(`${from}/kv.sqlite3`);
      await using app = await testApp({ kv });
      const dev = await developer(app);
      sk = (await project(app, dev.dat)).sk;
      for (let i = 0; i < 3; i++) {
        await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "rae" } });
      }
    }
    assert.equal((await task("backup", [`${from}/b.jsonl`], from)).code, 0);
    const rs = await task("restore", [`${from}/b.jsonl`], to);
    assert.equal(rs.code, 0, rs.err);
    await using kv2 = await Deno.openKv(`${to}/kv.sqlite3`);
    await using app2 = await testApp({ kv: kv2 });
    const u = await app2.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "rae" } });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.usage.count, 3);
  } finally {
    await Deno.remove(from, { recursive: true });
    await Deno.remove(to, { recursive: true });
  }
});
