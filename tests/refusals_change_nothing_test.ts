/**
 * [e2e] A refused request changes nothing, on every route: each route of /openapi.json that takes
 * a body gets malformed JSON, JSON of the wrong kind and bodies whose every field has the wrong
 * type, with the credentials it needs and real ids; each answer is 4xx, and everything the
 * developer and the customers can read (projects, tiers, keys, codes, endpoints, customers,
 * usage, orders, the audit log, the dashboards) reads the same after as before.
 */
import assert from "node:assert/strict";
import { developer, project, subscribe, testApp } from "@/tests/helpers.ts";

const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };
/** Every field name a body takes here, each with a value of the wrong type or range. */
const WRONG = {
  name: 123,
  displayName: ["x"],
  type: "neither",
  price: "ten",
  currency: 7,
  interval: "fortnight",
  limit: -5,
  inventory: "many",
  tiers: "none",
  tier: 5,
  url: 5,
  events: "all of them",
  amount: -1,
  restock: "yes",
  code: "",
  percentOff: 250,
  duration: "sometimes",
  graceSeconds: -1,
  atPeriodEnd: "yes",
  quantity: 0,
  items: "x",
  id: "",
  email: 42,
  metadata: "m",
  plan: 9,
  returnUrl: "javascript:alert(1)",
  successUrl: "ftp://x",
  cancelUrl: "",
  endUserAuth: "pem",
  automaticTax: "on",
  password: 1,
  currentPassword: 1,
  newPassword: "short",
};
const BAD_BODIES: (string | undefined)[] = [
  "{",
  "[]",
  '"text"',
  "null",
  "42",
  JSON.stringify(WRONG),
  JSON.stringify({ ...WRONG, ...URLS, unknownField: true }),
];

Deno.test("[e2e] every route refuses malformed and mistyped bodies with a 4xx and changes nothing", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const saas = await project(app, dev.dat, {
    name: "Refusals API",
    tiers: [
      { name: "free", price: 0, limit: 5 },
      { name: "pro", price: 1900, limit: 100 },
    ],
  });
  const store = await project(app, dev.dat, {
    name: "Refusals shop",
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 10 }],
  });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  await subscribe(app, saas.sk, "payer", "pro");
  await app.call("POST", "/api/data", { key: saas.sk, headers: { "X-User-Id": "payer" } });
  await app.call("POST", `/v1/projects/${saas.pk}/coupons`, {
    key: dev.dat,
    body: { code: "TEN", percentOff: 10, duration: "once" },
  });
  const ep = await app.call("POST", `/v1/projects/${saas.pk}/webhooks`, {
    key: dev.dat,
    body: { url: "https://hooks.example/refusals" },
  });
  const endpointId = ep.body.endpoint.id as string;
  await app.call("POST", `/v1/projects/${saas.pk}/webhooks/${endpointId}/test`, { key: dev.dat });
  const deliveryId = (await app.call(
    "GET",
    `/v1/projects/${saas.pk}/webhooks/${endpointId}/deliveries`,
    { key: dev.dat },
  )).body.deliveries[0].id as string;
  const mug = (await app.call("GET", "/api/products", { key: store.pk })).body.products[0];
  const cart = await app.call("POST", "/api/cart/checkout", {
    key: store.pk,
    body: { items: [{ productId: mug.id, quantity: 1 }], email: "b@example.com", ...URLS },
  });
  await app.call("POST", new URL(cart.body.url).pathname + "/complete", { body: {} });
  const orderId = cart.body.reservationId as string;

  const snapshot = async () => {
    const out: Record<string, unknown> = {};
    const read = async (path: string, key: string, headers: Record<string, string> = {}) => {
      const r = await app.call("GET", path, { key, headers });
      out[path + (headers["X-User-Id"] ?? "")] = r.status < 300
        ? r.body
        : [r.status, r.body?.error?.code];
    };
    for (const pk of [saas.pk, store.pk]) {
      for (
        const rest of [
          "",
          "/tiers",
          "/keys",
          "/dashboard",
          "/customers",
          "/events",
          "/coupons",
          "/webhooks",
          "/orders",
        ]
      ) await read(`/v1/projects/${pk}${rest}`, dev.dat);
    }
    await read(`/v1/projects/${saas.pk}/webhooks/${endpointId}/deliveries`, dev.dat);
    await read("/v1/projects", dev.dat);
    await read("/v1/me", dev.dat);
    await read("/v1/tokens", dev.dat);
    await read("/api/customers/payer", saas.sk);
    await read("/api/usage", saas.sk, { "X-User-Id": "payer" });
    await read("/api/products", store.pk);
    await read("/api/tiers", saas.pk);
    return out;
  };

  const spec = (await app.call("GET", "/openapi.json")).body.paths as Record<
    string,
    Record<string, { requestBody?: unknown }>
  >;
  const ids: Record<string, string> = {
    name: "pro",
    code: "TEN",
    deliveryId,
    platformId: dev.platformId,
    file: "x.png",
  };
  const wrong: string[] = [];
  let checked = 0;
  for (const [template, ops] of Object.entries(spec)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!op.requestBody || template === "/webhook/stripe") continue;
      const isStore = /orders|cart|products/.test(template);
      const pk = isStore ? store.pk : saas.pk;
      const path = template.replace(
        /\{(\w+)\}/g,
        (_, k: string) =>
          k === "pk"
            ? pk
            : k === "id"
            ? template.includes("/webhooks/")
              ? endpointId
              : template.includes("/orders/")
              ? orderId
              : template.includes("/tokens/")
              ? "tok_none"
              : "payer"
            : ids[k]!,
      );
      const key = template.startsWith("/v1/") ? dev.dat : isStore ? store.sk : saas.sk;
      const before = await snapshot();
      for (const raw of BAD_BODIES) {
        const r = await app.call(method.toUpperCase(), path, {
          key,
          headers: { "Content-Type": "application/json", "X-User-Id": "payer" },
          ...(raw === undefined ? {} : { raw }),
        });
        checked++;
        if (r.status < 400 || r.status >= 500) {
          wrong.push(`${method.toUpperCase()} ${path} ${raw?.slice(0, 20)}: ${r.status}`);
        }
      }
      const after = await snapshot();
      try {
        assert.deepEqual(after, before);
      } catch {
        wrong.push(`${method.toUpperCase()} ${path}: a refused body changed something`);
      }
    }
  }
  assert.ok(checked > 150, `bodies sent: ${checked}`);
  assert.deepEqual(wrong, []);
});
