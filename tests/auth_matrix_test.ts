/**
 * [e2e] Every operation of /openapi.json is refused as its security says: no credentials, a
 * malformed bearer or a revoked key is 401; a publishable key where a secret key is needed is 403
 * `forbidden` (the wrong kind of key); a project key on the developer API, or a developer token on
 * the customer API, is 401. Operations the document marks public answer without credentials.
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";

interface Op {
  security?: Record<string, string[]>[];
}

Deno.test("[e2e] every operation refuses missing, malformed, revoked and wrong-kind credentials as its security says", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const saas = await project(app, dev.dat);
  await app.call("POST", "/api/customers", { key: saas.sk, body: { id: "c1" } });
  const old = saas.sk;
  const rotated = await app.call("POST", `/v1/projects/${saas.pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 0 },
  });
  assert.equal(rotated.status, 200, rotated.text);

  const spec = (await app.call("GET", "/openapi.json")).body.paths as Record<
    string,
    Record<string, Op>
  >;
  const wrong: string[] = [];
  let sent = 0;
  const expect = async (
    method: string,
    path: string,
    o: { auth?: string; status: number; code?: string[] },
  ) => {
    const r = await app.call(method, path, {
      headers: {
        "X-User-Id": "c1",
        ...(o.auth ? { Authorization: o.auth } : {}),
        "Content-Type": "application/json",
      },
      ...(method === "GET" || method === "HEAD" ? {} : { raw: "{}" }),
    });
    sent++;
    const code = r.body?.error?.code;
    if (r.status !== o.status || (o.code && !o.code.includes(code))) {
      wrong.push(`${method} ${path} with ${o.auth ?? "nothing"}: ${r.status} ${code}`);
    }
  };
  const UNAUTH = ["unauthenticated", "invalid_api_key"];
  for (const [template, ops] of Object.entries(spec)) {
    const path = template.replace(
      /\{(\w+)\}/g,
      (_, k: string) => k === "pk" ? saas.pk : k === "platformId" ? dev.platformId : "x1",
    );
    for (const [m, op] of Object.entries(ops)) {
      const method = m.toUpperCase();
      const kinds = new Set((op.security ?? []).flatMap((s) => Object.keys(s)));
      if (kinds.size === 0) continue; // public, or checked its own way (signatures, metrics)
      await expect(method, path, { status: 401, code: UNAUTH });
      await expect(method, path, { auth: "Bearer nonsense", status: 401, code: UNAUTH });
      if (kinds.has("session")) {
        // the developer API: a project's keys are no developer credential
        await expect(method, path, { auth: `Bearer ${saas.pk}`, status: 401, code: UNAUTH });
        await expect(method, path, { auth: `Bearer ${rotated.body.secretKey}`, status: 401 });
        continue;
      }
      await expect(method, path, { auth: `Bearer ${old}`, status: 401, code: UNAUTH });
      await expect(method, path, { auth: `Bearer ${dev.dat}`, status: 401, code: UNAUTH });
      if (!kinds.has("publishableKey")) {
        await expect(method, path, {
          auth: `Bearer ${saas.pk}`,
          status: 403,
          code: ["forbidden"],
        });
      }
    }
  }
  assert.ok(sent > 200, `requests sent: ${sent}`);
  assert.deepEqual(wrong, []);
});
