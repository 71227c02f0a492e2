/** [e2e] real responses of a whole journey validate against the schemas /openapi.json documents. */
import assert from "node:assert/strict";
import Ajv2020 from "ajv/dist/2020.js";
import { developer, project, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] responses match /openapi.json (status documented, JSON body valid)", async () => {
  await using app = await testApp();
  const doc = (await app.call("GET", "/openapi.json")).body;
  // deno-lint-ignore no-explicit-any
  const ajv = new (Ajv2020 as any)({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ ...doc, $id: "openapi" });
  const templates = Object.keys(doc.paths).map((t) => ({
    t,
    re: new RegExp("^" + t.replace(/\{[^}]+\}/g, "[^/]+") + "$"),
  }));
  const seen: string[] = [];
  const check = (
    method: string,
    path: string,
    res: { status: number; body: unknown; headers: Headers },
  ) => {
    const p = path.split("?")[0]!;
    const tpl = templates.find((x) => x.re.test(p))?.t;
    assert.ok(tpl, `${method} ${p} is documented`);
    const op = doc.paths[tpl!][method.toLowerCase()];
    assert.ok(op, `${method} ${tpl} is documented`);
    assert.ok(op.responses[String(res.status)], `${method} ${tpl} documents status ${res.status}`);
    const content = op.responses[String(res.status)].content?.["application/json"];
    if (!content || !(res.headers.get("content-type") ?? "").includes("json")) return;
    const esc = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
    const ref = `openapi#/paths/${
      esc(tpl!)
    }/${method.toLowerCase()}/responses/${res.status}/content/${esc("application/json")}/schema`;
    const validate = ajv.getSchema(ref);
    assert.ok(validate, ref);
    const ok = validate(res.body);
    assert.ok(
      ok,
      `${method} ${tpl} ${res.status}: ${JSON.stringify(validate.errors)}\n${
        JSON.stringify(res.body)
      }`,
    );
    seen.push(`${method} ${tpl} ${res.status}`);
  };
  const call = async (method: string, path: string, o: Parameters<typeof app.call>[2] = {}) => {
    const res = await app.call(method, path, o);
    check(method, path, res);
    return res;
  };

  const dev = await developer(app);
  await call("GET", "/v1/me", { key: dev.dat });
  await call("GET", "/v1/tokens", { key: dev.dat });
  const saas = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 2 }, { name: "pro", price: 900, limit: 50 }],
  });
  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 900, inventory: 4 }],
  });
  await call("GET", "/v1/projects", { key: dev.dat });
  await call("GET", `/v1/projects/${saas.pk}`, { key: dev.dat });
  await call("PATCH", `/v1/projects/${saas.pk}`, { key: dev.dat, body: { name: "Renamed" } });
  await call("GET", `/v1/projects/${saas.pk}/tiers`, { key: dev.dat });
  await call("POST", `/v1/projects/${saas.pk}/tiers`, {
    key: dev.dat,
    body: { name: "team", price: 4900 },
  });
  await call("PATCH", `/v1/projects/${saas.pk}/tiers/team`, { key: dev.dat, body: { limit: 500 } });
  await call("DELETE", `/v1/projects/${saas.pk}/tiers/team`, { key: dev.dat });
  await call("POST", `/v1/projects/${saas.pk}/tiers`, {
    key: dev.dat,
    body: { name: "pro", price: 1 },
  });
  await call("POST", `/v1/projects/${saas.pk}/tiers`, {
    key: dev.dat,
    body: { name: "x", price: -1 },
  });
  await call("POST", "/api/customers", { key: saas.sk, body: { id: "oa" } });
  await call("GET", "/api/customers/oa", { key: saas.sk });
  await call("POST", "/api/customers/oa/token", { key: saas.sk });
  await call("POST", "/api/data", { key: saas.sk, headers: { "X-User-Id": "oa" } });
  await call("POST", "/api/data", { key: saas.sk, headers: { "X-User-Id": "oa" } });
  await call("POST", "/api/data", { key: saas.sk, headers: { "X-User-Id": "oa" } });
  await call("GET", "/api/usage", { key: saas.sk, headers: { "X-User-Id": "oa" } });
  await call("GET", "/api/tiers", { key: saas.pk });
  await call("GET", "/api/tiers", {});
  await call("POST", "/api/customers", { key: saas.pk, body: {} });
  const co = await call("POST", "/api/create-checkout", {
    key: saas.sk,
    headers: { "X-User-Id": "oa" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  await app.call("POST", new URL(co.body.url).pathname + "/complete");
  await call("POST", "/api/customer-portal", {
    key: saas.sk,
    headers: { "X-User-Id": "oa" },
    body: { returnUrl: "https://a.example/x" },
  });
  await call("POST", "/api/subscription/cancel", { key: saas.sk, headers: { "X-User-Id": "oa" } });
  await call("POST", "/api/subscription/resume", { key: saas.sk, headers: { "X-User-Id": "oa" } });
  await call("GET", "/api/dashboard", { key: saas.sk });
  await call("GET", "/api/dashboard", { key: store.sk });
  await call("GET", `/v1/projects/${saas.pk}/dashboard`, { key: dev.dat });
  await call("GET", `/v1/projects/${saas.pk}/customers?limit=1`, { key: dev.dat });
  await call("GET", `/v1/projects/${saas.pk}/events`, { key: dev.dat });
  await call("GET", `/v1/projects/${saas.pk}/usage`, { key: dev.dat });
  await call("GET", "/api/products", { key: store.pk });
  const products = (await app.call("GET", "/api/products", { key: store.pk })).body.products;
  await call("POST", "/api/cart/checkout", {
    key: store.pk,
    body: {
      items: [{ productId: products[0].id, quantity: 1 }],
      successUrl: "https://a.example/ok",
      cancelUrl: "https://a.example/no",
    },
  });
  await call("POST", `/v1/projects/${saas.pk}/keys/rotate`, {
    key: dev.dat,
    body: { graceSeconds: 0 },
  });
  await call("POST", `/v1/projects/${saas.pk}/promote`, { key: dev.dat, body: {} });
  await call("POST", `/v1/projects/${saas.pk}/promote`, { key: dev.dat, body: {} });
  const rotatedOut = await call("DELETE", "/api/customers/oa", { key: saas.sk });
  assert.equal(rotatedOut.status, 401, "the rotated-out key gets the documented error");
  assert.ok(seen.length >= 35, `validated ${seen.length} responses`);
});
