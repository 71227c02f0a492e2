/**
 * [e2e] Secrets are never stored or logged in plaintext: the real server, logging at debug level,
 * is given every kind of secret a developer and their customers handle (passwords, the session
 * cookie, access tokens, secret keys and their rotation, a webhook signing secret, a customer
 * token, unknown and revoked keys), then every byte under DATA_DIR (the KV file and its journal,
 * uploads) and every line it logged is searched for each of them.
 */
import assert from "node:assert/strict";
import { freePort, SERVER_RUN_ARGS, waitUp } from "@/tasks/server_process.ts";

/** Every file under `dir`, as Latin-1 text (each byte one character). */
async function bytesUnder(dir: string): Promise<string> {
  let out = "";
  for await (const e of Deno.readDir(dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out += await bytesUnder(path);
    else if (e.isFile) out += new TextDecoder("latin1").decode(await Deno.readFile(path));
  }
  return out;
}

Deno.test("[e2e] no secret a developer or customer hands over is kept or logged in plaintext", async () => {
  const dataDir = await Deno.makeTempDir({ prefix: "dream-secrets-" });
  const port = freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = new Deno.Command(Deno.execPath(), {
    args: SERVER_RUN_ARGS,
    env: { PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: "debug" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const logs = Promise.all([
    new Response(server.stdout).text(),
    new Response(server.stderr).text(),
  ]);
  const secrets: Record<string, string> = {};
  try {
    await waitUp(`${base}/healthz`);
    const call = async (
      method: string,
      path: string,
      o: { body?: unknown; headers?: Record<string, string> } = {},
    ) => {
      const res = await fetch(base + path, {
        method,
        headers: { "Content-Type": "application/json", Origin: base, ...o.headers },
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
    };
    secrets.password = "Correct-Horse-7193-battery";
    const signup = await call("POST", "/v1/signup", {
      body: { email: "keeper@example.com", password: secrets.password },
    });
    assert.equal(signup.status, 201);
    const cookie = signup.headers.get("set-cookie")!.split(";")[0]!;
    secrets.session = cookie.split("=").slice(1).join("=");
    const session = { Cookie: cookie };
    const wrong = await call("POST", "/v1/login", {
      body: { email: "keeper@example.com", password: "Wrong-Guess-5521-staple" },
    });
    assert.equal(wrong.status, 401);
    secrets.wrongPassword = "Wrong-Guess-5521-staple";
    secrets.newPassword = "Another-Horse-8842-battery";
    const changed = await call("POST", "/v1/me/password", {
      headers: session,
      body: { currentPassword: secrets.password, newPassword: secrets.newPassword },
    });
    assert.ok(changed.status < 300, JSON.stringify(changed.body));
    const login = await call("POST", "/v1/login", {
      body: { email: "keeper@example.com", password: secrets.newPassword },
    });
    assert.equal(login.status, 200);
    const relogged = { Cookie: login.headers.get("set-cookie")!.split(";")[0]! };
    secrets.session2 = relogged.Cookie.split("=").slice(1).join("=");
    const token = await call("POST", "/v1/tokens", { headers: relogged, body: { name: "ci" } });
    secrets.dat = token.body.secret;
    const dat = { Authorization: `Bearer ${secrets.dat}` };
    const made = await call("POST", "/v1/projects", {
      headers: dat,
      body: { name: "Vault", type: "saas", tiers: [{ name: "free", price: 0, limit: 10 }] },
    });
    assert.equal(made.status, 201);
    const pk = made.body.publishableKey as string;
    secrets.sk = made.body.secretKey;
    const rotated = await call("POST", `/v1/projects/${pk}/keys/rotate`, {
      headers: dat,
      body: { graceSeconds: 60 },
    });
    secrets.sk2 = rotated.body.secretKey;
    const sk = { Authorization: `Bearer ${secrets.sk2}` };
    const hook = await call("POST", `/v1/projects/${pk}/webhooks`, {
      headers: dat,
      body: { url: "https://hooks.example/vault" },
    });
    assert.equal(hook.status, 201);
    secrets.whsec = hook.body.secret;
    await call("POST", "/api/data", { headers: { ...sk, "X-User-Id": "u1" } });
    const ct = await call("POST", "/api/customers/u1/token", { headers: sk });
    secrets.customerToken = ct.body.token;
    const asCustomer = await call("GET", "/api/usage", {
      headers: { Authorization: `Bearer ${pk}`, "X-Customer-Token": secrets.customerToken! },
    });
    assert.equal(asCustomer.status, 200);
    // keys that fail: unknown, and one revoked by a rotation with no grace
    secrets.unknownSk = "sk_test_" + "Zq9".repeat(11);
    assert.equal(
      (await call("GET", "/api/usage", {
        headers: { Authorization: `Bearer ${secrets.unknownSk}`, "X-User-Id": "u1" },
      })).status,
      401,
    );
    await call("POST", `/v1/projects/${pk}/keys/rotate`, {
      headers: dat,
      body: { graceSeconds: 0 },
    });
    assert.equal(
      (await call("GET", "/api/usage", { headers: { ...sk, "X-User-Id": "u1" } })).status,
      401,
    );
    await call("DELETE", `/v1/tokens/${token.body.token.id}`, { headers: relogged });
    assert.equal((await call("GET", "/v1/projects", { headers: dat })).status, 401);
  } finally {
    server.kill("SIGTERM");
    await server.status;
  }
  const [out, err] = await logs;
  const stored = await bytesUnder(dataDir);
  await Deno.remove(dataDir, { recursive: true });
  assert.ok(stored.length > 10_000, "the store was read");
  assert.ok((out + err).includes("dream-api listening"), "the logs were read");
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(value && value.length >= 16, `${name} was handed over`);
    // the whole secret, and its random part without the prefix
    const parts = [value, value.replace(/^(sk_(test|live)_|dat_|whsec_)/, "")];
    for (const p of parts) {
      if (stored.includes(p)) found.push(`${name} in DATA_DIR`);
      if (out.includes(p) || err.includes(p)) found.push(`${name} in the logs`);
    }
  }
  assert.deepEqual([...new Set(found)], []);
});
