/**
 * [e2e] Background work item by item: one store hold, or one sandbox subscription, whose work
 * fails (here: the store refuses every read of it) is left for the next pass and stops none of
 * the others; the failure is reported.
 */
import assert from "node:assert/strict";
import { developer, project, proxyKv, subscribe, testApp } from "@/tests/helpers.ts";
import { sweepReservations } from "@/lib/store/sweep.ts";

/** A store whose reads of a key naming `poisoned.id` fail while `poisoned.on`. */
function poisonedKv(real: Deno.Kv, poisoned: { id: string; on: boolean }) {
  const names = (keys: unknown) =>
    poisoned.on && poisoned.id !== "" && JSON.stringify(keys).includes(poisoned.id);
  return proxyKv(
    real,
    (prop, method) =>
      prop === "get" || prop === "getMany"
        ? (...args: unknown[]) => {
          if (names(args[0])) return Promise.reject(new Error("the store refused this read"));
          return method(...args);
        }
        : undefined,
  );
}

Deno.test("[e2e] the hold sweep: a hold that cannot be settled stays due, the holds after it are released", async () => {
  const real = await Deno.openKv(":memory:");
  const poisoned = { id: "", on: false };
  await using app = await testApp({ kv: poisonedKv(real, poisoned) });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 10 }],
  });
  const mug = (await app.call("GET", "/api/products", { key: pk })).body.products[0];
  const hold = async () =>
    (await app.call("POST", "/api/cart/checkout", {
      key: pk,
      body: {
        items: [{ priceId: mug.priceId, quantity: 2 }],
        successUrl: "https://shop.example/ok",
        cancelUrl: "https://shop.example/no",
      },
    })).body.reservationId as string;
  const first = await hold(); // due first: the sweep meets it before the others
  app.clock.advance(1000);
  await hold();
  await hold();
  const stock = async () =>
    (await app.call("GET", "/api/products", { key: pk })).body.products[0].inventory;
  assert.equal(await stock(), 4);
  Object.assign(poisoned, { id: first, on: true });
  app.clock.advance(31 * 60_000);
  assert.equal(await sweepReservations(app.services, 0), 2, "the two after it");
  assert.equal(await stock(), 8);
  const logged = app.logs.lines.filter((l) => l.level === "error");
  assert.equal(logged.length, 1);
  assert.equal(logged[0]!.fields?.id, first);
  poisoned.on = false;
  assert.equal(await sweepReservations(app.services, 0), 1, "settled on the next pass");
  assert.equal(await stock(), 10);
  real.close();
});

Deno.test("[e2e] the sandbox clock: a subscription that cannot renew is left due, the others renew, and the tick says so", async () => {
  const real = await Deno.openKv(":memory:");
  const poisoned = { id: "", on: false };
  await using app = await testApp({ kv: poisonedKv(real, poisoned) });
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat);
  const subs = new Map<string, string>();
  for (const user of ["ann", "bob", "cid"]) subs.set(user, await subscribe(app, sk, user));
  const periodEnd = async (user: string) =>
    (await app.call("GET", `/api/customers/${user}`, { key: sk })).body.customer.subscription
      .currentPeriodEnd as string;
  const before = await periodEnd("bob");
  await app.services.sandbox!.tick(); // nothing due yet (and the store's one-time backfill done)
  // the one the clock meets first (due at the same time, they go in id order)
  const [stuck, ...others] = [...subs].sort((a, b) => (a[1] < b[1] ? -1 : 1)).map(([u]) => u);
  Object.assign(poisoned, { id: subs.get(stuck!)!, on: true });
  app.clock.advance(32 * 86_400_000);
  await assert.rejects(
    () => app.services.sandbox!.tick(),
    (err: Error) => err instanceof AggregateError && err.message.includes(subs.get(stuck!)!),
  );
  for (const user of others) assert.ok((await periodEnd(user)) > before, `${user} renewed`);
  poisoned.on = false;
  assert.ok((await periodEnd(stuck!)) === before, `${stuck} waits`);
  await app.services.sandbox!.tick();
  assert.ok((await periodEnd(stuck!)) > before, `${stuck} renewed on the next tick`);
  real.close();
});
