/**
 * [e2e] A refused request changes nothing, on every route: each route of /openapi.json that takes
 * a body gets malformed JSON, JSON of the wrong kind and bodies whose every field has the wrong
 * type, with the credentials it needs and real ids; each answer is 4xx, and everything the
 * developer and the customers can read (projects, tiers, keys, codes, endpoints, customers,
 * usage, orders, the audit log, the dashboards) reads the same after as before.
 */
import assert from "node:assert/strict";
import { testApp } from "@/tests/helpers.ts";
import { populatedDeveloper } from "@/tests/populated.ts";

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
  const w = await populatedDeveloper(app, {
    email: "refusals@example.com",
    customer: "payer",
    paidTier: "pro",
    product: "mug",
    code: "TEN",
  });
  const { dev, saas, store, endpointId, deliveryId, orderId } = w;
  const snapshot = w.snapshot;

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
