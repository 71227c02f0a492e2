/**
 * [e2e] Overage in random order with time passing: customers buy a tier that sells calls past
 * its limit, track random quantities, have their usage reset, cancel (at the period's end or
 * now), resume, are deleted, while the sandbox's clock renews their subscriptions. A model keeps
 * each period's count; every period that closes (a renewal, an end) is billed its calls past the
 * limit in blocks of `per`, rounded up, at `unitAmount` — except a deleted customer's — and the
 * dashboard's "overage billed" is always that sum. Seeded (OVERAGE_SEED).
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { prng } from "@/tests/prng.ts";

const SEED = Number(Deno.env.get("OVERAGE_SEED") ?? 20261206);
const STEPS = 220;
const URLS = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };
const LIMIT = 10;
const OVERAGE = { unitAmount: 5, per: 2, cap: 6 };

Deno.test("[e2e] random overage lifecycles: the overage billed is every closed period's calls past the limit", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [
      { name: "free", price: 0, limit: 3 },
      { name: "pro", price: 1900, limit: LIMIT, overage: OVERAGE },
    ],
  });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  const random = prng(SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const users = ["a", "b", "c", "d"];
  const as = (u: string) => ({ key: sk, headers: { "X-User-Id": u } });
  const counts = new Map<string, number>(); // `${user} ${periodStart}` → calls counted
  const open = new Map<string, string>(); // user → the pro period it is in
  const deleted = new Set<string>(); // users deleted since the last look
  let billed = 0;
  const log: string[] = [];

  const usage = async (u: string) =>
    (await app.call("GET", "/api/usage", as(u))).body.usage as {
      plan: string;
      periodStart: string;
      count: number;
    };
  const remove = async (u: string) => {
    const r = await app.call("DELETE", `/api/customers/${u}`, { key: sk });
    if (r.status === 200) {
      deleted.add(u);
      for (const k of [...counts.keys()]) if (k.startsWith(`${u} `)) counts.delete(k);
    }
    log.push(`${u} deleted: ${r.status}`);
  };
  const actions: (() => Promise<unknown>)[] = [
    async () => {
      const u = pick(users);
      const q = 1 + Math.floor(random() * 4);
      const r = await app.call("POST", "/api/data", { ...as(u), body: { quantity: q } });
      log.push(`${u} +${q}: ${r.status}`);
      if (r.status === 200) {
        const k = `${u} ${r.body.usage.periodStart}`;
        counts.set(k, (counts.get(k) ?? 0) + q);
      }
    },
    async () => {
      const u = pick(users);
      const co = await app.call("POST", "/api/create-checkout", {
        ...as(u),
        body: { tier: "pro", ...URLS },
      });
      if (co.status === 200 && co.body.url.includes("/sandbox/")) {
        await app.call("POST", `${new URL(co.body.url).pathname}/complete`, { body: {} });
        log.push(`${u} bought`);
      }
    },
    async () => {
      const u = pick(users);
      const now = await usage(u);
      const r = await app.call("POST", `/v1/projects/${pk}/customers/${u}/usage/reset`, {
        key: dev.dat,
      });
      if (r.status === 200) counts.set(`${u} ${now.periodStart}`, 0);
      log.push(`${u} reset`);
    },
    async () => {
      const u = pick(users);
      const atPeriodEnd = random() < 0.6;
      const r = await app.call("POST", `/v1/projects/${pk}/customers/${u}/subscription/cancel`, {
        key: dev.dat,
        body: { atPeriodEnd },
      });
      log.push(`${u} cancel${atPeriodEnd ? " at end" : " now"}: ${r.status}`);
    },
    () => app.call("POST", "/api/subscription/resume", as(pick(users))),
    () => remove(pick(users)),
    async () => {
      // at most 6 days at a time: an end is billed when its event is under a week old
      app.clock.advance(Math.floor(random() * 6 + 1) * 86_400_000);
      await app.services.sandbox!.tick();
      log.push(`clock ${new Date(app.clock.now()).toISOString().slice(0, 10)}`);
    },
  ];
  const weights = [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 6, 6];

  // the random steps, then one customer past its limit through a renewal: a period billed for sure
  const u0 = users[0]!;
  const tail: (() => Promise<unknown>)[] = [
    () => remove(u0),
    async () => {
      const co = await app.call("POST", "/api/create-checkout", {
        ...as(u0),
        body: { tier: "pro", ...URLS },
      });
      await app.call("POST", `${new URL(co.body.url).pathname}/complete`, { body: {} });
    },
    async () => {
      const r = await app.call("POST", "/api/data", { ...as(u0), body: { quantity: 13 } });
      assert.equal(r.status, 200, r.text);
      const k = `${u0} ${r.body.usage.periodStart}`;
      counts.set(k, (counts.get(k) ?? 0) + 13);
    },
    // the clock, five days at a time, past the renewal
    ...Array.from({ length: 7 }, () => async () => {
      app.clock.advance(5 * 86_400_000);
      await app.services.sandbox!.tick();
    }),
  ];
  for (let step = 0; step < STEPS + tail.length; step++) {
    await (step < STEPS ? actions[pick(weights)]! : tail[step - STEPS]!)();
    for (const u of users) {
      const now = await usage(u);
      const was = open.get(u);
      if (was !== undefined && (now.plan !== "pro" || now.periodStart !== was)) {
        // the pro period `was` closed: billed unless the customer was deleted
        if (!deleted.has(u)) {
          const past = Math.max(0, (counts.get(`${u} ${was}`) ?? 0) - LIMIT);
          billed += Math.ceil(past / OVERAGE.per) * OVERAGE.unitAmount;
          if (past) log.push(`${u} billed ${past} past`);
        }
        open.delete(u);
      }
      if (now.plan === "pro") open.set(u, now.periodStart);
      assert.equal(now.count, counts.get(`${u} ${now.periodStart}`) ?? 0, `${u}'s count`);
    }
    deleted.clear();
    const dash = (await app.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
    assert.equal(
      dash.overageRevenue,
      billed,
      `step ${step}, seed ${SEED}: ${log.slice(-8).join(" | ")}`,
    );
  }
  assert.ok(billed > 0, "overage was billed");
  assert.ok(log.some((l) => / 429$/.test(l)), "calls past the cap were refused");
});
