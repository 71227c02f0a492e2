/**
 * Checkout and portal calls without return URLs, as the original `@dream-api/sdk` allows (its
 * `successUrl`, `cancelUrl` and `returnUrl` are optional): from a browser they go back to the
 * original dream-api's pages on the calling page's origin; from a server (no `Origin`) they are
 * 422 naming the missing field, and nothing is created or held.
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";

const FROM_APP = { Origin: "https://app.example" };

Deno.test("a subscription checkout and the portal from a browser default their return URLs to the calling app's pages", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat);
  const who = { "X-User-Id": "ada" };
  const co = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { ...who, ...FROM_APP },
    body: { tier: "pro" },
  });
  assert.equal(co.status, 200, co.text);
  const page = new URL(co.body.url).pathname;
  const paid = await app.call("POST", `${page}/complete`, { body: {} });
  assert.equal(paid.body.redirectUrl, "https://app.example/dashboard?success=true");

  // one given is kept, the other defaults
  await app.call("POST", "/api/customers", { key: sk, body: { id: "bo" } });
  const mixed = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "bo", ...FROM_APP },
    body: { tier: "pro", successUrl: "https://app.example/welcome" },
  });
  assert.equal(mixed.status, 200, mixed.text);
  const left = await app.call("POST", `${new URL(mixed.body.url).pathname}/cancel`, { body: {} });
  assert.equal(left.body.redirectUrl, "https://app.example/dashboard?canceled=true");

  const portal = await app.call("POST", "/api/customer-portal", {
    key: sk,
    headers: { ...who, ...FROM_APP },
    body: {},
  });
  assert.equal(portal.status, 200, portal.text);
  const html = (await app.call("GET", new URL(portal.body.url).pathname)).text;
  assert.ok(html.includes("https://app.example/dashboard"), "the portal returns to /dashboard");
});

Deno.test("without an Origin (a server's call) a missing return URL is 422 naming it, and no customer is made", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat);
  for (
    const [origin, body] of [
      [{}, { tier: "pro" }],
      [{ Origin: "null" }, { tier: "pro", successUrl: "https://a.example/ok" }],
    ] as const
  ) {
    const r = await app.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": "new_one", ...origin },
      body,
    });
    assert.equal(r.status, 422);
    assert.equal(r.body.error.code, "validation_failed");
    assert.ok(r.body.error.details.some((d: { field: string }) => d.field === "cancelUrl"));
  }
  const portal = await app.call("POST", "/api/customer-portal", {
    key: sk,
    headers: { "X-User-Id": "new_one" },
    body: {},
  });
  assert.equal(portal.status, 422);
  assert.deepEqual(portal.body.error.details.map((d: { field: string }) => d.field), [
    "returnUrl",
  ]);
  assert.equal((await app.call("GET", "/api/customers/new_one", { key: sk })).status, 404);
  // a URL that is given must still be absolute, whatever the origin
  const rel = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "new_one", ...FROM_APP },
    body: { tier: "pro", successUrl: "/success" },
  });
  assert.equal(rel.status, 422);
});

Deno.test("a cart checkout from a browser defaults to the calling shop's /cart pages; from a server it holds nothing", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 3 }],
  });
  const [mug] = (await app.call("GET", "/api/products", { key: pk })).body.products;
  const items = [{ productId: mug.id, quantity: 1 }];
  const server = await app.call("POST", "/api/cart/checkout", { key: pk, body: { items } });
  assert.equal(server.status, 422);
  assert.equal((await app.call("GET", "/api/products", { key: pk })).body.products[0].inventory, 3);
  const browser = await app.call("POST", "/api/cart/checkout", {
    key: pk,
    headers: FROM_APP,
    body: { items },
  });
  assert.equal(browser.status, 200, browser.text);
  const paid = await app.call("POST", `${new URL(browser.body.url).pathname}/complete`, {
    body: {},
  });
  assert.equal(paid.body.redirectUrl, "https://app.example/cart?success=true");
});
