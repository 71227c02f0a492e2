/** [e2e] prices and products archived in Stripe's dashboard don't stop sales (the double). */
import assert from "node:assert/strict";
import { connectedProject, deliverEvents } from "@/tests/stripe_double.ts";
import { createCheckout, ORIGIN } from "@/tests/helpers.ts";
import { getProject } from "@/lib/kv/projects.ts";

const URLS = { successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };

Deno.test("[e2e] a tier whose price or product was archived in Stripe's dashboard is sold again", async () => {
  await using t = await connectedProject({
    tiers: [
      { name: "free", price: 0, limit: 3 },
      { name: "pro", price: 1900, limit: 100, overage: { unitAmount: 5, per: 1 } },
    ],
  });
  const { double, srv, sk, pk, account, app } = t;
  const checkout = (user: string) => createCheckout(srv, { sk, user });
  const pro = async () => (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "pro")!;
  assert.equal((await checkout("ann")).status, 200);
  const before = await pro();

  double.archive(account, before.priceId!);
  const res = await checkout("bob");
  assert.equal(res.status, 200, res.text);
  const after = await pro();
  assert.notEqual(after.priceId, before.priceId, "a new price");
  assert.equal(after.overagePriceId, before.overagePriceId, "the overage price was fine");
  assert.equal(double.find(account, after.priceId!)!.unit_amount, 1900);
  assert.deepEqual(
    after.priceHistory?.find((h) => h.priceId === before.priceId),
    { priceId: before.priceId, amount: 1900, currency: "usd", interval: "month" },
    "the old one recorded as it was (subscribers may still pay it)",
  );
  const items = double.requests.filter((r) => r.path === "/v1/checkout/sessions").at(-1)!;
  assert.match(items.raw!, new RegExp(after.priceId!));

  double.archive(account, before.productId!);
  const again = await checkout("cai");
  assert.equal(again.status, 200, again.text);
  assert.equal(
    double.find(account, before.productId!)!.active,
    true,
    "the product is on sale again",
  );

  // a refusal about something else makes nothing new
  const prices = double.all(account, "price_").length;
  double.refusals.set("/v1/checkout/sessions", {
    status: 400,
    type: "invalid_request_error",
    code: "account_invalid",
    message: "This account cannot currently make live charges.",
  });
  const refused = await checkout("dan");
  assert.equal(refused.status, 502);
  assert.equal(double.all(account, "price_").length, prices);
});

Deno.test("[e2e] a store product whose price was archived in Stripe's dashboard is sold again", async () => {
  await using t = await connectedProject({
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }, { name: "hat", price: 800, inventory: 5 }],
  });
  const { double, srv, pk, account, app } = t;
  const products = (await srv.call("GET", "/api/products", { key: pk })).body.products;
  const items = products.map((p: { id: string }) => ({ productId: p.id, quantity: 1 }));
  const cart = () => srv.call("POST", "/api/cart/checkout", { key: pk, body: { items, ...URLS } });
  const first = await cart();
  assert.equal(first.status, 200, first.text);
  const hat = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "hat")!;
  double.archive(account, hat.priceId!);
  const res = await cart();
  assert.equal(res.status, 200, res.text);
  const now = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "hat")!;
  assert.notEqual(now.priceId, hat.priceId);
  assert.equal(now.inventory, 3, "two carts hold two hats");
});

Deno.test("[e2e] a tier's image given as an /api/assets/… path reaches Stripe as an absolute URL", async () => {
  const tiers = [
    { name: "free", price: 0, limit: 3 },
    { name: "pro", price: 1900, limit: 100, imageUrl: "/api/assets/plt_x/pro.png" },
  ];
  for (const baseUrl of [ORIGIN, null]) {
    await using t = await connectedProject({ tiers, config: { baseUrl } });
    const { double, srv, sk, pk, account, app } = t;
    const res = await createCheckout(srv, { sk, user: "ann" });
    assert.equal(res.status, 200, res.text);
    const pro = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "pro")!;
    assert.deepEqual(
      double.find(account, pro.productId!)!.images,
      baseUrl ? [`${baseUrl}/api/assets/plt_x/pro.png`] : [],
      "without BASE_URL there is no address to give: the product goes without its image",
    );
    assert.equal(pro.imageUrl, "/api/assets/plt_x/pro.png", "the tier keeps what was given");
  }
});

Deno.test("[e2e] a switch to a tier whose price was archived in Stripe's dashboard goes through", async () => {
  await using t = await connectedProject({
    tiers: [
      { name: "free", price: 0, limit: 3 },
      { name: "pro", price: 1900, limit: 100 },
      { name: "team", price: 4900, limit: 1000 },
    ],
  });
  const { double, srv, sk, pk, account, app } = t;
  const co = await createCheckout(srv, { sk, user: "ann" });
  await deliverEvents(srv, double, double.pay(account, co.body.sessionId));
  // the team tier's price is made (on first need), then archived in the dashboard
  const team = (await getProject(app.kv, pk))!.tiers.find((x) => x.name === "team")!;
  const { ensureTierPrice } = await import("@/lib/catalog/sync.ts");
  const priced = await ensureTierPrice(app.services, (await getProject(app.kv, pk))!, team);
  double.archive(account, priced.priceId!);
  const res = await createCheckout(srv, { sk, user: "ann", tier: "team" });
  assert.equal(res.status, 200, res.text);
  assert.equal(res.body.switched, true);
  const c = await srv.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(c.body.customer.plan, "team");
  assert.notEqual(c.body.customer.subscription.priceId ?? "", priced.priceId);
});

Deno.test("[e2e] a tier whose product was deleted in Stripe's dashboard is made again: sold, edited, deleted", async () => {
  await using t = await connectedProject({
    tiers: [
      { name: "free", price: 0, limit: 3 },
      { name: "pro", price: 1900, limit: 100, overage: { unitAmount: 5, per: 1 } },
      { name: "team", price: 4900, limit: 1000 },
    ],
  });
  const { double, srv, sk, pk, account, app } = t;
  const dat = t.dev.dat;
  const tier = async (name: string) =>
    (await getProject(app.kv, pk))!.tiers.find((x) => x.name === name)!;
  assert.equal((await createCheckout(srv, { sk, user: "ann" })).status, 200);
  const before = await tier("pro");
  double.deleteProduct(account, before.productId!);

  const res = await createCheckout(srv, { sk, user: "bob" });
  assert.equal(res.status, 200, res.text);
  const after = await tier("pro");
  assert.notEqual(after.productId, before.productId, "a new product");
  assert.notEqual(after.priceId, before.priceId, "a new price");
  assert.notEqual(after.overagePriceId, before.overagePriceId, "a new overage price");
  for (const id of [after.priceId!, after.overagePriceId!]) {
    assert.equal(double.find(account, id)!.product, after.productId, "on the new product");
  }
  assert.equal(double.find(account, after.priceId!)!.unit_amount, 1900);
  assert.equal(double.find(account, after.productId!)!.active, true);
  // made once: a second checkout makes nothing more
  const products = double.all(account, "prod_").length;
  assert.equal((await createCheckout(srv, { sk, user: "cai" })).status, 200);
  assert.equal(double.all(account, "prod_").length, products);

  // an edit and a deletion of a tier whose product is gone go through too
  const team = await tier("team");
  const { ensureTierPrice } = await import("@/lib/catalog/sync.ts");
  const priced = await ensureTierPrice(app.services, (await getProject(app.kv, pk))!, team);
  double.deleteProduct(account, priced.productId!);
  const edit = await srv.call("PATCH", `/v1/projects/${pk}/tiers/team`, {
    key: dat,
    body: { price: 5900, displayName: "Team+" },
  });
  assert.equal(edit.status, 200, edit.text);
  const edited = await tier("team");
  assert.notEqual(edited.productId, priced.productId);
  assert.equal(double.find(account, edited.productId!)!.name, "Team+");
  assert.equal(double.find(account, edited.priceId!)!.unit_amount, 5900);
  double.deleteProduct(account, edited.productId!);
  const del = await srv.call("DELETE", `/v1/projects/${pk}/tiers/team`, { key: dat });
  assert.ok(del.status < 300, del.text);
  assert.equal((await getProject(app.kv, pk))!.tiers.some((x) => x.name === "team"), false);
});

Deno.test("[e2e] a store product deleted in Stripe's dashboard is sold again", async () => {
  await using t = await connectedProject({
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }],
  });
  const { double, srv, pk, account, app } = t;
  const products = (await srv.call("GET", "/api/products", { key: pk })).body.products;
  const items = products.map((p: { id: string }) => ({ productId: p.id, quantity: 1 }));
  const cart = () => srv.call("POST", "/api/cart/checkout", { key: pk, body: { items, ...URLS } });
  assert.equal((await cart()).status, 200);
  const mug = (await getProject(app.kv, pk))!.tiers[0]!;
  double.deleteProduct(account, mug.productId!);
  const res = await cart();
  assert.equal(res.status, 200, res.text);
  const now = (await getProject(app.kv, pk))!.tiers[0]!;
  assert.notEqual(now.productId, mug.productId);
  assert.equal(double.find(account, now.priceId!)!.product, now.productId);
  assert.equal(now.inventory, 3, "two carts hold two mugs");
});
