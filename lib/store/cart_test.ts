import assert from "node:assert/strict";
import { resolveLines, returnStock, takeStock } from "@/lib/store/cart.ts";
import type { Product, Project } from "@/lib/kv/projects.ts";
import { ConflictError, ValidationError } from "@/lib/errors.ts";

const product = (o: Partial<Product>): Product => ({
  id: "tier_x",
  name: "x",
  displayName: "X",
  price: 1000,
  currency: "usd",
  interval: null,
  limit: null,
  features: [],
  popular: false,
  description: null,
  imageUrl: null,
  inventory: 5,
  priceId: "price_x",
  productId: "prod_x",
  priceSpec: "1000:usd:once",
  ...o,
});

const store = (...tiers: Product[]): Project => ({
  pk: "pk_test_x",
  platformId: "plt_x",
  name: "Shop",
  type: "store",
  mode: "test",
  secretHash: "h",
  tiers,
  listId: "l",
  createdAt: "",
  updatedAt: "",
  livePk: null,
});

Deno.test("takeStock() takes every line or nothing; unlimited products are not counted", () => {
  const mug = product({ id: "mug", name: "mug", inventory: 3 });
  const ebook = product({ id: "ebook", name: "ebook", inventory: null, priceId: "price_e" });
  const p = store(mug, ebook);
  const { project, taken } = takeStock(p, [{ tier: mug, quantity: 2 }, {
    tier: ebook,
    quantity: 9,
  }]);
  assert.equal(project.tiers[0]!.inventory, 1);
  assert.equal(project.tiers[1]!.inventory, null);
  assert.deepEqual(taken.map((l) => [l.name, l.quantity, l.counted]), [
    ["mug", 2, true],
    ["ebook", 9, false],
  ]);
  assert.equal(p.tiers[0]!.inventory, 3, "the input is not changed");
  assert.throws(() => takeStock(p, [{ tier: mug, quantity: 4 }]), ConflictError);
  assert.throws(
    () => takeStock(store(product({ id: "mug", inventory: 0 })), [{ tier: mug, quantity: 1 }]),
    /sold out/,
  );
});

Deno.test("returnStock() gives counted stock back, or takes it again (paid after a release)", () => {
  const mug = product({ id: "mug", name: "mug", inventory: 1 });
  const lines = [{
    tierId: "mug",
    name: "mug",
    quantity: 2,
    unitAmount: 1000,
    currency: "usd",
    counted: true,
  }];
  assert.equal(returnStock(store(mug), lines).tiers[0]!.inventory, 3);
  assert.equal(
    returnStock(store(product({ id: "mug", inventory: 3 })), lines, -1).tiers[0]!.inventory,
    1,
  );
  assert.equal(
    returnStock(store(product({ id: "mug", inventory: null })), lines).tiers[0]!.inventory,
    null,
    "a product made unlimited since keeps what it has",
  );
});

Deno.test("resolveLines() merges repeats and refuses unknown, archived or mixed-currency items", () => {
  const mug = product({ id: "mug", priceId: "price_m", productId: "prod_m" });
  const cap = product({ id: "cap", priceId: "price_c", productId: "prod_c", currency: "eur" });
  const old = product({ id: "old", priceId: "price_o", productId: "prod_o", archived: true });
  const p = store(mug, cap, old);
  const merged = resolveLines(p, [
    { priceId: "price_m", quantity: 1 },
    { productId: "prod_m", quantity: 2 },
  ]);
  assert.deepEqual(merged.map((l) => [l.tier.id, l.quantity]), [["mug", 3]]);
  assert.throws(() => resolveLines(p, [{ priceId: "price_zz", quantity: 1 }]), ValidationError);
  assert.throws(() => resolveLines(p, [{ priceId: "price_o", quantity: 1 }]), ValidationError);
  assert.throws(
    () =>
      resolveLines(p, [{ priceId: "price_m", quantity: 1 }, { priceId: "price_c", quantity: 1 }]),
    /one currency/,
  );
});
