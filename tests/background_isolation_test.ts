/**
 * [e2e] Background work item by item: one store hold, one sandbox subscription or one deleted
 * project whose work fails (here: the store refuses every read of it) is left for the next pass
 * and stops none of the others; the failure is reported.
 */
import assert from "node:assert/strict";
import { developer, project, proxyKv, subscribe, testApp } from "@/tests/helpers.ts";
import { sweepReservations } from "@/lib/store/sweep.ts";
import { purgeDeletedProjects } from "@/lib/projects/lifecycle.ts";

/** A store whose reads (and lists) of keys naming `poisoned.id` fail while `poisoned.on`. */
function poisonedKv(real: Deno.Kv, poisoned: { id: string; on: boolean }) {
  const names = (keys: unknown) =>
    poisoned.on && poisoned.id !== "" && JSON.stringify(keys).includes(poisoned.id);
  const refused = () => new Error("the store refused this read");
  return proxyKv(real, (prop, method) => {
    if (prop === "get" || prop === "getMany") {
      return (...args: unknown[]) => names(args[0]) ? Promise.reject(refused()) : method(...args);
    }
    if (prop === "list") {
      return (...args: unknown[]) => {
        if (names(args[0])) throw refused();
        return method(...args);
      };
    }
  });
}

/** An app on a store that refuses what names `poisoned.id` while `poisoned.on`. */
async function poisonedApp() {
  const real = await Deno.openKv(":memory:");
  const poisoned = { id: "", on: false };
  const app = await testApp({ kv: poisonedKv(real, poisoned) });
  return {
    app,
    poisoned,
    dev: await developer(app),
    async [Symbol.asyncDispose]() {
      await app[Symbol.asyncDispose]();
      real.close();
    },
  };
}

Deno.test("[e2e] the hold sweep: a hold that cannot be settled stays due, the holds after it are released", async () => {
  await using t = await poisonedApp();
  const { app, poisoned, dev } = t;
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
});

Deno.test("[e2e] the sandbox clock: a subscription that cannot renew is left due, the others renew, and the tick says so", async () => {
  await using t = await poisonedApp();
  const { app, poisoned, dev } = t;
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
});

Deno.test("[e2e] the purge: a deleted project that cannot be purged is tried again later, the others are purged", async () => {
  await using t = await poisonedApp();
  const { app, poisoned, dev } = t;
  const pks: string[] = [];
  for (let i = 0; i < 3; i++) {
    const { pk } = await project(app, dev.dat);
    assert.equal((await app.call("DELETE", `/v1/projects/${pk}`, { key: dev.dat })).status, 200);
    pks.push(pk);
  }
  pks.sort(); // the purge meets them in key order
  Object.assign(poisoned, { id: pks[0]!, on: true });
  app.clock.advance(31 * 86_400_000);
  assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 2 });
  assert.equal(app.logs.lines.filter((l) => l.level === "error").length, 1);
  poisoned.on = false;
  assert.deepEqual(await purgeDeletedProjects(app.services), { purged: 1 });
});
