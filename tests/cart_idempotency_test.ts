/**
 * A cart checkout's `Idempotency-Key`, as Stripe treats one: a retry answers the first checkout
 * again and holds nothing more; the key with another cart is 409; requests racing with one key
 * hold stock once; a request that failed frees its key for the retry.
 */
import assert from "node:assert/strict";
import { developer, faultyKv, project, setsIn, testApp } from "@/tests/helpers.ts";

const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };

async function shop(o: { kv?: Deno.Kv } = {}) {
  const app = await testApp(o);
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 10 }],
  });
  const product = async () =>
    (await app.call("GET", "/api/products", { key: pk })).body.products[0];
  const { id: productId } = await product();
  const checkout = (key: string | null, quantity = 2) =>
    app.call("POST", "/api/cart/checkout", {
      key: pk,
      headers: key ? { "Idempotency-Key": key } : {},
      body: { items: [{ productId, quantity }], email: "buyer@example.com", ...URLS },
    });
  return { app, dev, pk, stock: async () => (await product()).inventory as number, checkout };
}

Deno.test("a cart retried with its Idempotency-Key answers the first checkout and holds stock once", async () => {
  const s = await shop();
  await using _ = s.app;
  const first = await s.checkout("cart-1");
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get("idempotent-replayed"), null);
  const again = await s.checkout("cart-1");
  assert.equal(again.status, 200, again.text);
  assert.equal(again.headers.get("idempotent-replayed"), "true");
  assert.deepEqual(again.body, first.body);
  assert.equal(await s.stock(), 8, "held once");
  // another cart with the same key is refused and holds nothing
  const other = await s.checkout("cart-1", 3);
  assert.equal(other.status, 409);
  assert.equal(other.body.error.code, "conflict");
  assert.equal(await s.stock(), 8);
  // without a key every request is a new checkout, as before
  assert.equal((await s.checkout(null)).status, 200);
  assert.equal((await s.checkout(null)).status, 200);
  assert.equal(await s.stock(), 4);
  // a malformed key is 400 and holds nothing
  const bad = await s.checkout("bad key\twith tab");
  assert.equal(bad.status, 400);
  assert.equal(await s.stock(), 4);
  // the first checkout is paid once
  const paid = await s.app.call("POST", `${new URL(first.body.url).pathname}/complete`);
  assert.equal(paid.status, 200);
  assert.equal((await s.checkout("cart-1")).body.reservationId, first.body.reservationId);
});

Deno.test("requests racing with one Idempotency-Key hold stock once", async () => {
  const s = await shop();
  await using _ = s.app;
  const answers = await Promise.all(Array.from({ length: 6 }, () => s.checkout("race-1")));
  const ok = answers.filter((a) => a.status === 200);
  assert.ok(ok.length >= 1, answers.map((a) => a.status).join(","));
  assert.ok(answers.every((a) => a.status === 200 || a.status === 409));
  assert.equal(new Set(ok.map((a) => a.body.reservationId)).size, 1, "one hold answered");
  assert.equal(await s.stock(), 8, "held once");
  // once the first has answered, a retry gets it
  const later = await s.checkout("race-1");
  assert.equal(later.status, 200);
  assert.equal(later.body.reservationId, ok[0]!.body.reservationId);
});

Deno.test("a cart whose checkout failed frees its Idempotency-Key: the retry holds and answers", async () => {
  const faults = await faultyKv();
  const s = await shop({ kv: faults.kv });
  await using _ = s.app;
  faults.failCommits(setsIn("reservations_by_session"), 3); // linking the session fails 3 times
  const failed = await s.checkout("retry-1");
  assert.equal(failed.status, 500, failed.text);
  assert.equal(await s.stock(), 10, "its hold given back");
  faults.heal();
  const retry = await s.checkout("retry-1");
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.headers.get("idempotent-replayed"), null, "a new checkout, not a replay");
  assert.equal(await s.stock(), 8);
});
