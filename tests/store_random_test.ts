/**
 * [e2e] A store in random order with time passing: carts of several products held, paid,
 * abandoned or left to expire (the sandbox's clock and the hold sweep), refunds whole or in part,
 * with and without restock, stock set by the developer in between. After every step: each finite
 * product's stock is what the ledger of holds, releases, restocks and settings says (never
 * negative), the orders are the paid carts with their lines, and the dashboard's sales, revenue
 * (net of refunds), in stock, low stock and sold out equal what the products and orders add up
 * to. Seeded (STORE_SEED).
 */
import assert from "node:assert/strict";
import { developer, project, recordedCalls, testApp } from "@/tests/helpers.ts";
import { prng } from "@/tests/prng.ts";
import { sweepReservations } from "@/lib/store/sweep.ts";

const SEED = Number(Deno.env.get("STORE_SEED") ?? 20261206);
const STEPS = 200;
const URLS = { successUrl: "https://shop.example/ok", cancelUrl: "https://shop.example/no" };
const PRODUCTS = [
  { name: "mug", price: 1200, inventory: 12 },
  { name: "cap", price: 2500, inventory: 4 },
  { name: "ebook", price: 900, inventory: null },
];

interface Line {
  name: string;
  quantity: number;
}
interface Cart {
  url: string;
  id: string;
  lines: Line[];
  total: number;
}

Deno.test("[e2e] a store in random order with time passing keeps stock, orders and the dashboard whole", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { type: "store", tiers: PRODUCTS });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  const random = prng(SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const products = (await app.call("GET", "/api/products", { key: pk })).body.products as {
    id: string;
    name: string;
    price: number;
  }[];
  const idOf = new Map(products.map((p) => [p.name, p.id]));
  const priceOf = new Map(PRODUCTS.map((p) => [p.name, p.price]));
  // the ledger: what each finite product's stock must read
  const stock = new Map<string, number>(
    PRODUCTS.filter((p) => p.inventory !== null).map((p) => [p.name, p.inventory!]),
  );
  const move = (lines: Line[], sign: number) => {
    for (const l of lines) {
      if (stock.has(l.name)) stock.set(l.name, stock.get(l.name)! + sign * l.quantity);
    }
  };
  const pending: Cart[] = [];
  const paid = new Map<string, Cart & { refunded: number; restocked: boolean }>();
  const { call, log, fivexx } = recordedCalls(app);
  const path = (url: string) => new URL(url).pathname;

  const actions: (() => Promise<unknown>)[] = [
    async () => {
      const names = [...new Set([pick(PRODUCTS).name, pick(PRODUCTS).name])];
      const lines = names.map((name) => ({ name, quantity: 1 + Math.floor(random() * 3) }));
      const r = await call("POST", "/api/cart/checkout", {
        key: pk,
        headers: { "X-Forwarded-For": `10.1.0.${Math.floor(random() * 250)}` },
        body: {
          items: lines.map((l) => ({ productId: idOf.get(l.name), quantity: l.quantity })),
          email: "buyer@example.com",
          ...URLS,
        },
      });
      if (r.status !== 200) return;
      move(lines, -1);
      const total = lines.reduce((a, l) => a + priceOf.get(l.name)! * l.quantity, 0);
      pending.push({ url: r.body.url, id: r.body.reservationId, lines, total });
    },
    async () => {
      const cart = pending.splice(Math.floor(random() * pending.length), 1)[0];
      if (!cart) return;
      const how = pick(["complete", "complete", "cancel"]);
      const r = await call("POST", `${path(cart.url)}/${how}`, { body: {} });
      assert.equal(r.status, 200, `${how}: ${r.text}`);
      if (how === "cancel") move(cart.lines, 1);
      else paid.set(cart.id, { ...cart, refunded: 0, restocked: false });
    },
    async () => {
      const order = pick([...paid.values(), undefined as never]);
      if (!order) return;
      const left = order.total - order.refunded;
      const amount = left > 1 && random() < 0.5 ? Math.floor(left / 2) : undefined;
      const restock = random() < 0.5;
      const r = await call("POST", `/v1/projects/${pk}/orders/${order.id}/refund`, {
        key: dev.dat,
        body: { ...(amount ? { amount } : {}), ...(restock ? { restock } : {}) },
      });
      if (r.status !== 200) {
        assert.ok(left <= 0 && !restock, `refund refused: ${r.status} ${r.text}`);
        return;
      }
      order.refunded += amount ?? left;
      if (restock && !order.restocked) (order.restocked = true, move(order.lines, 1));
    },
    async () => {
      // the developer sets a product's stock: the ledger starts again from the value set
      const p = pick(PRODUCTS.filter((x) => x.inventory !== null));
      const inventory = Math.floor(random() * 15);
      const r = await call("PATCH", `/v1/projects/${pk}/tiers/${p.name}`, {
        key: dev.dat,
        body: { inventory },
      });
      assert.equal(r.status, 200, r.text);
      stock.set(p.name, inventory);
    },
    async () => {
      // past every hold's time: the sandbox expires the open sessions, the sweep the rest
      app.clock.advance(31 * 60_000);
      await app.services.sandbox!.tick();
      await sweepReservations(app.services, 0);
      for (const cart of pending.splice(0)) move(cart.lines, 1);
    },
  ];
  const weights = [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 4];

  const check = async (step: number) => {
    const context = `step ${step}, seed ${SEED}: ${log.slice(-5).join(" | ")}`;
    const listed = (await app.call("GET", "/api/products", { key: pk })).body.products as {
      name: string;
      inventory: number | null;
      soldOut: boolean;
    }[];
    for (const p of listed) {
      if (!stock.has(p.name)) {
        assert.equal(p.inventory, null, context);
        continue;
      }
      assert.equal(p.inventory, Math.max(0, stock.get(p.name)!), `${p.name}, ${context}`);
      assert.ok(p.inventory! >= 0, `${p.name} below zero, ${context}`);
      assert.equal(p.soldOut, p.inventory === 0, `${p.name} soldOut, ${context}`);
    }
    const orders = (await app.call("GET", `/v1/projects/${pk}/orders?limit=100`, {
      key: dev.dat,
    })).body.orders as {
      id: string;
      amountTotal: number;
      amountRefunded: number;
      items: { name: string; quantity: number }[];
    }[];
    assert.deepEqual(orders.map((o) => o.id).sort(), [...paid.keys()].sort(), context);
    for (const o of orders) {
      const cart = paid.get(o.id)!;
      assert.equal(o.amountTotal, cart.total, context);
      assert.equal(o.amountRefunded, cart.refunded, context);
      assert.deepEqual(
        o.items.map((i) => `${i.name}×${i.quantity}`).sort(),
        cart.lines.map((l) => `${l.name}×${l.quantity}`).sort(),
        context,
      );
    }
    const finite = listed.filter((p) => p.inventory !== null).map((p) => p.inventory!);
    const dash = (await app.call("GET", "/api/dashboard", { key: sk })).body;
    assert.deepEqual(
      {
        sales: dash.sales,
        revenue: dash.revenue,
        inStock: dash.inStock,
        lowStock: dash.lowStock,
        soldOut: dash.soldOut,
      },
      {
        sales: orders.length,
        revenue: orders.reduce((a, o) => a + o.amountTotal - o.amountRefunded, 0),
        inStock: finite.reduce((a, n) => a + n, 0),
        lowStock: finite.filter((n) => n > 0 && n <= 5).length,
        soldOut: finite.filter((n) => n === 0).length,
      },
      context,
    );
  };

  for (let step = 0; step < STEPS; step++) {
    await actions[pick(weights)]!();
    await check(step);
  }
  assert.deepEqual(fivexx, []);
  assert.ok(paid.size > 5, `carts were paid: ${paid.size}`);
  assert.ok(log.some((l) => /refund 200$/.test(l)), "orders were refunded");
});
