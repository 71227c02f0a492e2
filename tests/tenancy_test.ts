/**
 * [e2e] Every query is scoped by the authenticated project: one developer, with its own token and
 * keys, sends every developer route of /openapi.json at another developer's projects and at its
 * own projects with the other's ids (customers, tiers, codes, endpoints, deliveries, orders), and
 * every customer route at the other's customers and tokens. Nothing answers 2xx or 5xx, and the
 * other developer's projects read exactly as before, audit log included.
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { populatedDeveloper, validBody } from "@/tests/populated.ts";

const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

Deno.test("[e2e] one developer reaches nothing of another's, through any route, with any id", async () => {
  await using app = await testApp();
  const owner = await populatedDeveloper(app, {
    email: "owner@example.com",
    customer: "b_cust",
    paidTier: "bonly",
    product: "bmug",
    code: "BCODE",
  });
  const { saas: bSaas, store: bStore, endpointId, deliveryId, orderId } = owner;
  const mug = { id: owner.productId };
  const bToken = (await app.call("POST", "/api/customers/b_cust/token", { key: bSaas.sk })).body
    .token as string;
  const snapshot = owner.snapshot;
  const before = await snapshot();

  const a = await developer(app, "other@example.com");
  const aSaas = await project(app, a.dat, { name: "Other API" });
  const aStore = await project(app, a.dat, {
    name: "Other shop",
    type: "store",
    tiers: [{ name: "amug", price: 900, inventory: 3 }],
  });
  await app.call("GET", "/v1/connect/authorize", { key: a.dat });

  const spec = (await app.call("GET", "/openapi.json")).body.paths as Record<string, object>;
  const routes = Object.entries(spec).filter(([p]) => p.startsWith("/v1/projects/{pk}"));
  assert.ok(routes.length >= 30, `developer routes with a project: ${routes.length}`);
  const wrong: string[] = [];
  let sent = 0;
  for (const [template, ops] of routes) {
    for (const method of Object.keys(ops).map((m) => m.toUpperCase())) {
      for (const store of [false, true]) {
        const ids = {
          name: store ? "bmug" : "bonly",
          code: "BCODE",
          id: template.includes("/webhooks/")
            ? endpointId
            : template.includes("/orders/")
            ? orderId
            : "b_cust",
          deliveryId,
        };
        // the other's project itself, then one's own project with the other's ids (a route
        // without ids is one's own to use there)
        const withIds = /\{(name|code|id|deliveryId)\}/.test(template);
        const own = store ? aStore.pk : aSaas.pk;
        for (
          const pk of withIds ? [store ? bStore.pk : bSaas.pk, own] : [store ? bStore.pk : bSaas.pk]
        ) {
          const path = template.replace(
            /\{(\w+)\}/g,
            (_, k: string) => k === "pk" ? pk : ids[k as keyof typeof ids],
          );
          // a body the route would take, so that only the scoping can refuse it
          const body = method === "GET" || method === "DELETE"
            ? undefined
            : validBody(template, store);
          const r = await app.call(method, path, {
            key: a.dat,
            ...(body === undefined ? {} : { body }),
          });
          sent++;
          if (r.status < 400 || r.status >= 500) {
            wrong.push(`${method} ${path}: ${r.status} ${r.text.slice(0, 120)}`);
          }
        }
      }
    }
  }
  assert.ok(sent > 80, `requests sent: ${sent}`);

  // the customer API with the other's keys, customers and tokens
  const customerCalls: [string, string, Record<string, unknown>][] = [
    ["GET", "/api/customers/b_cust", { key: aSaas.sk }],
    ["PATCH", "/api/customers/b_cust", { key: aSaas.sk, body: { name: "Pwned" } }],
    ["DELETE", "/api/customers/b_cust", { key: aSaas.sk }],
    ["POST", "/api/customers/b_cust/token", { key: aSaas.sk }],
    ["POST", "/api/data", { key: aSaas.pk, headers: { "X-Customer-Token": bToken } }],
    ["GET", "/api/usage", { key: aSaas.pk, headers: { "X-Customer-Token": bToken } }],
    ["POST", "/api/data", { key: aSaas.sk, headers: { "X-Publishable-Key": bSaas.pk } }],
    ["POST", "/api/subscription/cancel", { key: aSaas.pk, headers: { "X-Clerk-Token": bToken } }],
    [
      "POST",
      "/api/cart/checkout",
      { key: aStore.pk, body: { items: [{ productId: mug.id, quantity: 1 }], ...URLS } },
    ],
    [
      "POST",
      "/api/create-checkout",
      { key: aSaas.sk, headers: { "X-User-Id": "a_user" }, body: { tier: "bonly", ...URLS } },
    ],
  ];
  for (const [method, path, o] of customerCalls) {
    const r = await app.call(method, path, o);
    if (r.status < 400 || r.status >= 500) {
      wrong.push(`${method} ${path}: ${r.status} ${r.text.slice(0, 120)}`);
    }
  }
  // the same customer id in one's own project is one's own customer, with nothing of the other's
  const mine = await app.call("GET", "/api/usage", {
    key: aSaas.sk,
    headers: { "X-User-Id": "b_cust" },
  });
  assert.equal(mine.status, 200);
  assert.equal(mine.body.usage.count, 0);
  assert.equal(mine.body.usage.plan, "free");
  const totals = await app.call("GET", "/api/dashboard/totals", { key: aSaas.sk });
  assert.equal(totals.status, 200);
  assert.equal(totals.body.activeSubscriptions, 0);
  assert.equal(totals.body.sales, 0);
  const aOrders = await app.call("GET", "/api/orders", { key: aStore.sk });
  assert.deepEqual(aOrders.body.orders, []);

  assert.deepEqual(wrong, []);
  assert.deepEqual(await snapshot(), before);
});
