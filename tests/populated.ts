/**
 * For tests that walk every route: a developer with something of every kind — a SaaS project
 * with a paying customer (usage counted), a promotion code and a webhook endpoint with a
 * delivery, and a Store with a paid order — and everything that developer can read of them, to
 * compare whole before and after; and a body each project route would accept.
 */
import assert from "node:assert/strict";
import { developer, project, subscribe, type TestApp } from "@/tests/helpers.ts";

const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

/**
 * A body the project route `template` (of /openapi.json) would accept on a SaaS project or, with
 * `store`, a Store, so that only the check a test is about can refuse it.
 */
export function validBody(template: string, store: boolean): unknown {
  const rules: [RegExp, unknown][] = [
    [/\/keys\/rotate$/, { graceSeconds: 0 }],
    [/\/tiers$/, store ? { name: "evil", price: 100, inventory: 1 } : { name: "evil", price: 0 }],
    [/\/tiers\/\{name\}$/, { displayName: "Forged" }],
    [/\/coupons$/, { code: "FORGED", percentOff: 50, duration: "once" }],
    [/\/webhooks$/, { url: "https://evil.example/hook" }],
    [/\/refund$/, { amount: 1 }],
    [/\/subscription\/cancel$/, { atPeriodEnd: false }],
    [/\/\{pk\}$/, { name: "Forged" }],
  ];
  return rules.find(([re]) => re.test(template))?.[1] ?? {};
}

export async function populatedDeveloper(
  app: TestApp,
  o: { email: string; customer: string; paidTier: string; product: string; code: string },
) {
  const dev = await developer(app, o.email);
  const saas = await project(app, dev.dat, {
    name: "Populated API",
    tiers: [
      { name: "free", price: 0, limit: 5 },
      { name: "pro", price: 1900, limit: 100 },
      ...(o.paidTier === "pro" ? [] : [{ name: o.paidTier, price: 2900, limit: 500 }]),
    ],
  });
  const store = await project(app, dev.dat, {
    name: "Populated shop",
    type: "store",
    tiers: [{ name: o.product, price: 1200, inventory: 10 }],
  });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  await subscribe(app, saas.sk, o.customer, "pro");
  await app.call("POST", "/api/data", { key: saas.sk, headers: { "X-User-Id": o.customer } });
  const code = await app.call("POST", `/v1/projects/${saas.pk}/coupons`, {
    key: dev.dat,
    body: { code: o.code, percentOff: 10, duration: "forever" },
  });
  assert.equal(code.status, 201, code.text);
  const ep = await app.call("POST", `/v1/projects/${saas.pk}/webhooks`, {
    key: dev.dat,
    body: { url: "https://hooks.example/populated" },
  });
  assert.equal(ep.status, 201, ep.text);
  const endpointId = ep.body.endpoint.id as string;
  const ping = await app.call("POST", `/v1/projects/${saas.pk}/webhooks/${endpointId}/test`, {
    key: dev.dat,
  });
  assert.equal(ping.status, 202, ping.text);
  const mug = (await app.call("GET", "/api/products", { key: store.pk })).body.products[0];
  const cart = await app.call("POST", "/api/cart/checkout", {
    key: store.pk,
    body: { items: [{ productId: mug.id, quantity: 1 }], email: "buyer@example.com", ...URLS },
  });
  assert.equal(cart.status, 200, cart.text);
  await app.call("POST", new URL(cart.body.url).pathname + "/complete", { body: {} });
  const deliveries = await app.call(
    "GET",
    `/v1/projects/${saas.pk}/webhooks/${endpointId}/deliveries`,
    { key: dev.dat },
  );
  const world = {
    dev,
    saas,
    store,
    endpointId,
    deliveryId: deliveries.body.deliveries[0].id as string,
    orderId: cart.body.reservationId as string,
    productId: mug.id as string,
    customer: o.customer,
  };
  return {
    ...world,
    /** Everything the developer and the customer API read of it (error answers by their code). */
    snapshot: () => readAll(app, world),
  };
}

async function readAll(
  app: TestApp,
  w: {
    dev: { dat: string };
    saas: { pk: string; sk: string };
    store: { pk: string };
    endpointId: string;
    customer: string;
  },
) {
  const out: Record<string, unknown> = {};
  const read = async (path: string, key: string, headers: Record<string, string> = {}) => {
    const r = await app.call("GET", path, { key, headers });
    out[path + (headers["X-User-Id"] ?? "")] = r.status < 300
      ? r.body
      : [r.status, r.body?.error?.code];
  };
  for (const pk of [w.saas.pk, w.store.pk]) {
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
    ) await read(`/v1/projects/${pk}${rest}`, w.dev.dat);
  }
  await read(`/v1/projects/${w.saas.pk}/webhooks/${w.endpointId}/deliveries`, w.dev.dat);
  await read("/v1/projects", w.dev.dat);
  await read("/v1/me", w.dev.dat);
  await read("/v1/tokens", w.dev.dat);
  await read(`/api/customers/${w.customer}`, w.saas.sk);
  await read("/api/usage", w.saas.sk, { "X-User-Id": w.customer });
  await read("/api/products", w.store.pk);
  await read("/api/tiers", w.saas.pk);
  return out;
}
