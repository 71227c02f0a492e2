/** [e2e] the SDK as a user gets it: `npm pack` tarball installed in a Node project, run by Node against the server. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";
import { ensureIslands } from "@/tests/browser.ts";

const SDK = new URL("../sdk/", import.meta.url).pathname;

async function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, cwd, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed:\n${text}\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

const SCRIPT = `
import { DreamApi, DreamBrowser, DreamApiError } from "dream-api-sdk";
const { BASE, SK, PK } = process.env;
const out = {};
const dream = new DreamApi({ secretKey: SK, baseUrl: BASE });
out.customer = (await dream.customers.create({ id: "node_user" })).plan;
out.tracked = (await dream.usage.track("node_user", { quantity: 2 })).count;
out.usage = (await dream.usage.get("node_user")).count;
try { await dream.usage.track("node_user", { quantity: 10 }); } catch (e) {
  out.limit = { isError: e instanceof DreamApiError, status: e.status, code: e.code, count: e.usage?.count, requestId: !!e.requestId };
}
const co = await dream.billing.checkout("node_user", { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" });
await fetch(co.url + "/complete", { method: "POST" }).then((r) => r.text());
out.plan = (await dream.customers.get("node_user")).plan;
out.canceled = (await dream.billing.cancel("node_user")).cancelAtPeriodEnd;
out.resumed = (await dream.billing.resume("node_user")).cancelAtPeriodEnd;
const { token } = await dream.customers.token("node_user");
const browser = new DreamBrowser({ publishableKey: PK, baseUrl: BASE, customerToken: token });
out.tiers = (await browser.tiers()).tiers.map((t) => t.name);
out.browserUsage = (await browser.usage.track()).count;
out.dashboard = (await dream.dashboard()).activeSubscriptions;
console.log(JSON.stringify(out));
`;

Deno.test({
  name: "[e2e] SDK tarball under Node (ESM + .d.ts) against the running server",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await using app = await testApp();
    await using srv = servePort(app);
    const dev = await developer(app);
    const { pk, sk } = await project(app, dev.dat, {
      tiers: [{ name: "free", price: 0, limit: 5 }, { name: "pro", price: 1900, limit: 100 }],
    });
    const tmp = await Deno.makeTempDir({ prefix: "dream-sdk-" });
    try {
      await run("npm", ["install", "--no-audit", "--no-fund", "--silent"], SDK);
      const packed = (await run("npm", ["pack", "--silent", "--pack-destination", tmp], SDK)).trim()
        .split("\n").pop()!;
      const tarball = `${tmp}/${packed}`;
      const listing = await run("tar", ["-tzf", tarball], tmp);
      assert.match(listing, /package\/dist\/index\.js/);
      assert.match(listing, /package\/dist\/index\.d\.ts/);
      assert.match(listing, /package\/README\.md/);
      const pkg = JSON.parse(await run("tar", ["-xzOf", tarball, "package/package.json"], tmp));
      assert.equal(pkg.dependencies, undefined, "no runtime dependencies");
      await Deno.writeTextFile(
        `${tmp}/package.json`,
        JSON.stringify({ name: "consumer", private: true, type: "module" }),
      );
      await run("npm", ["install", "--no-audit", "--no-fund", "--silent", tarball], tmp);
      await Deno.writeTextFile(`${tmp}/main.mjs`, SCRIPT);
      const result = JSON.parse(
        await run("node", ["main.mjs"], tmp, { BASE: srv.base, SK: sk, PK: pk }),
      );
      assert.deepEqual(result, {
        customer: "free",
        tracked: 2,
        usage: 2,
        limit: {
          isError: true,
          status: 429,
          code: "tier_limit_reached",
          count: 2,
          requestId: true,
        },
        plan: "pro",
        canceled: true,
        resumed: false,
        tiers: ["free", "pro"],
        browserUsage: 1,
        dashboard: 1,
      });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});

const CJS = `
const { DreamApi, DreamApiError } = require("dream-api-sdk");
const dream = new DreamApi({ secretKey: process.env.SK, baseUrl: process.env.BASE });
(async () => {
  const c = await dream.customers.create({ id: "cjs_user", firstName: "Common", lastName: "JS" });
  const u = await dream.usage.track("cjs_user");
  let err = null;
  try { await dream.customers.get("nobody"); } catch (e) { err = e instanceof DreamApiError && e.status; }
  console.log(JSON.stringify({ name: c.name, count: u.usageCount, err }));
})();
`;

const ESM = `
import { DreamApi, verifyWebhook } from "dream-api-sdk";
import { createHmac } from "node:crypto";
const dream = new DreamApi({ secretKey: process.env.SK, baseUrl: process.env.BASE });
const count = (await dream.usage.track("cjs_user")).count;
// verifyWebhook under Node: a Standard Webhooks signature made with node:crypto
const key = Buffer.from("0123456789abcdef01234567");
const body = JSON.stringify({ type: "ping", timestamp: "t", data: { object: {}, version: 1 } });
const ts = String(Math.floor(Date.now() / 1000));
const sig = createHmac("sha256", key).update("msg_1." + ts + "." + body).digest("base64");
const event = await verifyWebhook("whsec_" + key.toString("base64"), body, {
  "webhook-id": "msg_1",
  "webhook-timestamp": ts,
  "webhook-signature": "v1," + sig,
});
console.log(JSON.stringify({ count, webhook: event.type }));
`;

Deno.test({
  name:
    "[e2e] the SDK this server serves: npm install <url> (require and import), and /sdk/index.js from Deno",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    await ensureIslands();
    await using app = await testApp();
    await using srv = servePort(app);
    const dev = await developer(app);
    const { sk } = await project(app, dev.dat, {
      tiers: [{ name: "free", price: 0, limit: 50 }],
    });
    const mod = await fetch(`${srv.base}/sdk/index.js`);
    assert.equal(mod.status, 200);
    assert.match(mod.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.equal(mod.headers.get("access-control-allow-origin"), "*");
    assert.match(await mod.text(), /export\s*\{[^}]*DreamApi/);
    assert.equal(
      await fetch(`${srv.base}/sdk/other.js`).then((r) => (r.body?.cancel(), r.status)),
      404,
    );

    const tmp = await Deno.makeTempDir({ prefix: "dream-sdk-url-" });
    try {
      // a CommonJS project (no "type": "module"), installing from this server's URL
      await Deno.writeTextFile(
        `${tmp}/package.json`,
        JSON.stringify({ name: "consumer-cjs", private: true }),
      );
      await run("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--silent",
        `${srv.base}/sdk/dream-api-sdk.tgz`,
      ], tmp);
      const installed = JSON.parse(
        await Deno.readTextFile(`${tmp}/node_modules/dream-api-sdk/package.json`),
      );
      assert.equal(installed.name, "dream-api-sdk");
      await Deno.writeTextFile(`${tmp}/main.cjs`, CJS);
      const env = { BASE: srv.base, SK: sk };
      assert.deepEqual(JSON.parse(await run("node", ["main.cjs"], tmp, env)), {
        name: "Common JS",
        count: 1,
        err: 404,
      });
      await Deno.writeTextFile(`${tmp}/main.mjs`, ESM);
      assert.deepEqual(JSON.parse(await run("node", ["main.mjs"], tmp, env)), {
        count: 2,
        webhook: "ping",
      });

      // Deno importing the module straight from the server
      const host = new URL(srv.base).host;
      await Deno.writeTextFile(
        `${tmp}/deno_main.ts`,
        `import { DreamApi } from "${srv.base}/sdk/index.js";\n` +
          `const dream = new DreamApi({ secretKey: Deno.env.get("SK")!, baseUrl: Deno.env.get("BASE")! });\n` +
          `console.log(JSON.stringify({ count: (await dream.usage.track("cjs_user")).count }));\n`,
      );
      const denoOut = await run(
        Deno.execPath(),
        [
          "run",
          "--no-config",
          "--no-lock",
          "--reload",
          `--allow-import=${host}`,
          `--allow-net=${host}`,
          "--allow-env=SK,BASE",
          "deno_main.ts",
        ],
        tmp,
        { ...env, DENO_DIR: `${tmp}/.deno` },
      );
      assert.deepEqual(JSON.parse(denoOut), { count: 3 });
    } finally {
      await Deno.remove(tmp, { recursive: true });
    }
  },
});
