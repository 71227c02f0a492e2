/**
 * [e2e] CSRF on every unsafe developer route: with the session cookie and another site's Origin
 * (or no Origin and no Referer), each route of /openapi.json under /v1 that changes something is
 * 403 `forbidden`, even with a body it would accept, and nothing the developer can read changed
 * (sign-up and sign-in refuse another site's Origin; without one they serve curl and automation).
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { validBody } from "@/tests/populated.ts";

/** A body each route would accept, so that only the CSRF check can refuse it. */
function accepted(path: string, store: boolean): unknown {
  // the account's own routes; the project routes' bodies are the shared ones
  const rules: [RegExp, unknown][] = [
    [/\/signup$/, { email: "csrf-new@example.com", password: "a long password" }],
    [/\/login$/, { email: "csrf@example.com", password: "a long password" }],
    [/\/me\/password$/, { currentPassword: "a long password", newPassword: "another password" }],
    [/\/tokens$/, { name: "forged" }],
    [/^\/v1\/projects$/, { name: "Forged", type: "saas", tiers: [{ name: "free", price: 0 }] }],
  ];
  return rules.find(([re]) => re.test(path))?.[1] ?? validBody(path, store);
}

Deno.test("[e2e] every unsafe developer route refuses a cookie request from another site, and changes nothing", async () => {
  await using app = await testApp();
  const dev = await developer(app, "csrf@example.com");
  // the helper's password is "correct horse battery"; set the one `accepted` uses
  const pw = await app.call("POST", "/v1/me/password", {
    key: dev.dat,
    body: { currentPassword: "correct horse battery", newPassword: "a long password" },
  });
  assert.ok(pw.status < 300, pw.text);
  const login = await app.call("POST", "/v1/login", {
    body: { email: "csrf@example.com", password: "a long password" },
  });
  const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
  const saas = await project(app, dev.dat, { name: "Guarded" });
  const store = await project(app, dev.dat, {
    name: "Guarded shop",
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }],
  });
  await app.call("POST", "/api/customers", { key: saas.sk, body: { id: "c1" } });
  const tokens = (await app.call("GET", "/v1/tokens", { key: dev.dat })).body.tokens;

  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    for (
      const path of [
        "/v1/me",
        "/v1/tokens",
        "/v1/projects",
        ...[saas.pk, store.pk].flatMap((pk) =>
          ["", "/tiers", "/keys", "/customers", "/coupons", "/webhooks", "/events"].map((r) =>
            `/v1/projects/${pk}${r}`
          )
        ),
      ]
    ) {
      const r = await app.call("GET", path, { key: dev.dat });
      out[path] = r.status < 300 ? r.body : [r.status];
    }
    return out;
  };
  const before = await snapshot();

  const spec = (await app.call("GET", "/openapi.json")).body.paths as Record<string, object>;
  const wrong: string[] = [];
  let sent = 0;
  for (const [template, ops] of Object.entries(spec)) {
    if (!template.startsWith("/v1/")) continue;
    for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
      if (method === "GET" || method === "HEAD") continue;
      const store_ = /orders/.test(template);
      const ids: Record<string, string> = {
        pk: store_ ? store.pk : saas.pk,
        name: store_ ? "mug" : "free",
        code: "NONE",
        id: template.startsWith("/v1/tokens") ? tokens[0].id : "c1",
        deliveryId: "none",
      };
      const path = template.replace(/\{(\w+)\}/g, (_, k: string) => ids[k]!);
      const body = accepted(template, store_);
      // signing up and in start a session rather than use one: a client without a browser (curl,
      // automation) sends no Origin, and only another site's Origin is refused there
      const starts = template === "/v1/signup" || template === "/v1/login";
      const origins: Record<string, string>[] = starts
        ? [{ Origin: "https://evil.example" }]
        : [{ Origin: "https://evil.example" }, {}];
      for (const origin of origins) {
        const r = await app.call(method, path, {
          headers: { Cookie: cookie, ...origin },
          ...(template === "/v1/assets" ? {} : { body }),
        });
        sent++;
        if (r.status !== 403 || r.body?.error?.code !== "forbidden") {
          wrong.push(`${method} ${path} ${origin.Origin ?? "(no Origin)"}: ${r.status}`);
        }
      }
    }
  }
  assert.ok(sent > 60, `requests sent: ${sent}`);
  assert.deepEqual(wrong, []);
  assert.deepEqual(await snapshot(), before);
});
