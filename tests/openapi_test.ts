/** /openapi.json documents every mounted API route, from the same schemas that validate. */
import assert from "node:assert/strict";
import { testApp } from "@/tests/helpers.ts";

Deno.test("GET /openapi.json is OpenAPI 3.1 and lists every mounted /api and /v1 route", async () => {
  await using app = await testApp();
  const res = await app.call("GET", "/openapi.json");
  assert.equal(res.status, 200);
  assert.equal(res.body.openapi, "3.1.0");
  const documented = new Set<string>();
  for (
    const [path, ops] of Object.entries(res.body.paths as Record<string, Record<string, unknown>>)
  ) {
    for (const method of Object.keys(ops)) documented.add(`${method.toUpperCase()} ${path}`);
  }
  const mounted = app.hono.routes
    .filter((r) =>
      /^\/(api|v1|webhook)\//.test(r.path) && !r.path.includes("*") && r.method !== "ALL"
    )
    .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, "{$1}")}`);
  assert.ok(mounted.length >= 20, `found ${mounted.length} routes`);
  const missing = [...new Set(mounted)].filter((r) => !documented.has(r));
  assert.deepEqual(missing, [], "every mounted route is documented");
  for (const s of ["secretKey", "publishableKey", "customerToken", "session", "accessToken"]) {
    assert.ok(res.body.components.securitySchemes[s], `security scheme ${s}`);
  }
  assert.ok(res.body.components.schemas.Error, "the error shape is documented");
  assert.ok(res.body.paths["/api/data"].post.responses["429"]);
});

Deno.test("GET /healthz answers ok while KV answers; every response has X-Request-Id", async () => {
  await using app = await testApp();
  const res = await app.call("GET", "/healthz");
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { ok: true });
  assert.match(res.headers.get("x-request-id")!, /^req_/);
  const echoed = await app.call("GET", "/healthz", {
    headers: { "X-Request-Id": "my-trace-12345" },
  });
  assert.equal(echoed.headers.get("x-request-id"), "my-trace-12345");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
});

Deno.test("GET / renders the landing page without JavaScript", async () => {
  await using app = await testApp();
  const res = await app.call("GET", "/");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/html/);
  assert.match(res.text, /^<!doctype html>/);
  assert.match(res.text, /<h1>Monetize your API/);
  const css = await app.call("GET", "/static/app.css");
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type")!, /text\/css/);
  assert.equal((await app.call("GET", "/static/../deno.json")).status, 404);
});

Deno.test("an unexpected error is a 500 internal_error without a stack, and is logged", async () => {
  await using app = await testApp();
  app.hono.get("/boom", () => {
    throw new Error("kaboom at secret place");
  });
  const res = await app.call("GET", "/boom");
  assert.equal(res.status, 500);
  assert.equal(res.body.error.code, "internal_error");
  assert.ok(!res.text.includes("kaboom"));
  assert.ok(app.logs.lines.some((l) => l.level === "error"));
});

Deno.test("/openapi.json: every operation has a unique id and declared security, servers is this server, no code leaks", async () => {
  await using app = await testApp();
  const doc = await (await app.fetch(new Request("http://localhost/openapi.json"))).json();
  assert.deepEqual(doc.servers, [{ url: "http://localhost" }]);
  const ids = new Set<string>();
  const methods = ["get", "post", "put", "patch", "delete"];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!methods.includes(method)) continue;
      const o = op as { operationId?: string; security?: unknown; middleware?: unknown };
      assert.ok(o.operationId, `${method} ${path} has an operationId`);
      assert.ok(!ids.has(o.operationId!), `${o.operationId} is unique`);
      ids.add(o.operationId!);
      assert.ok(Array.isArray(o.security), `${method} ${path} declares its security`);
      assert.equal(o.middleware, undefined, `${method} ${path} leaks no middleware`);
    }
  }
  assert.ok(doc.paths["/healthz"]?.get, "/healthz is documented");
  assert.ok(doc.paths["/openapi.json"]?.get, "/openapi.json is documented");
  assert.deepEqual(doc.paths["/v1/signup"].post.security, [], "sign-up needs no credential");
  const image = doc.paths["/api/assets/{platformId}/{file}"].get.responses["200"].content;
  assert.deepEqual(Object.keys(image).sort(), [
    "image/gif",
    "image/jpeg",
    "image/png",
    "image/webp",
  ]);
});
