/**
 * [e2e] Subscription lifecycles in random order with time passing: checkouts paid with a good or
 * a failing card (trials among them), portal cancels, resumes and switches, the API's cancel and
 * resume, the developer's immediate cancel, deletions, usage, and the sandbox clock run across
 * renewals, trial ends and period ends. After every step no answer was 5xx, and the dashboard's
 * aggregates (customers, active, canceling, in trial, MRR) equal what the customers' own records
 * add up to, each paying customer on its subscription's tier. Seeded (LIFECYCLE_SEED).
 */
import assert from "node:assert/strict";
import { developer, project, recordedCalls, testApp } from "@/tests/helpers.ts";
import { prng } from "@/tests/prng.ts";

const SEED = Number(Deno.env.get("LIFECYCLE_SEED") ?? 20261206);
const STEPS = 260;
const URLS = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };
const TIERS = [
  { name: "free", price: 0, limit: 5 },
  { name: "pro", price: 1900, limit: 100 },
  { name: "team", price: 24000, interval: "year", limit: null },
  { name: "lab", price: 2900, limit: 500, trialDays: 7 },
];
/** Each paid tier's monthly amount in MRR (a yearly price counts a twelfth). */
const MONTHLY: Record<string, number> = { pro: 1900, team: 2000, lab: 2900 };

interface Sub {
  status: string;
  tier: string | null;
  cancelAtPeriodEnd: boolean;
}

Deno.test("[e2e] random subscription lifecycles with time passing keep the dashboard equal to the customers' records", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  const random = prng(SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const users = Array.from({ length: 8 }, (_, i) => `u${i}`);
  const as = (u: string) => ({ key: sk, headers: { "X-User-Id": u } });
  const path = (url: string) => new URL(url).pathname;
  const { call, log, fivexx } = recordedCalls(app);

  const actions: (() => Promise<unknown>)[] = [
    async () => {
      const co = await call("POST", "/api/create-checkout", {
        ...as(pick(users)),
        body: { tier: pick(["pro", "team", "lab"]), ...URLS },
      });
      if (co.status !== 200) return;
      if (random() < 0.15) return await call("POST", `${path(co.body.url)}/cancel`);
      const card = random() < 0.3 ? "4000 0000 0000 0341" : "4242 4242 4242 4242";
      await call("POST", `${path(co.body.url)}/complete`, { body: { card } });
    },
    async () => {
      const portal = await call("POST", "/api/customer-portal", {
        ...as(pick(users)),
        body: { returnUrl: "https://app.example/billing" },
      });
      if (portal.status !== 200) return;
      const action = pick(["cancel", "resume", "switch"]);
      await call(
        "POST",
        `${path(portal.body.url)}/${action}`,
        action === "switch" ? { body: { tier: pick(["pro", "team", "lab"]) } } : {},
      );
    },
    () => call("POST", "/api/subscription/cancel", as(pick(users))),
    () => call("POST", "/api/subscription/resume", as(pick(users))),
    () =>
      call("POST", `/v1/projects/${pk}/customers/${pick(users)}/subscription/cancel`, {
        key: dev.dat,
        body: { atPeriodEnd: random() < 0.5 },
      }),
    () => call("DELETE", `/api/customers/${pick(users)}`, { key: sk }),
    () => call("POST", "/api/data", as(pick(users))),
    async () => {
      app.clock.advance(Math.floor(random() * 20 + 1) * 86_400_000);
      await app.services.sandbox!.tick();
    },
  ];
  const weights = [0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 6, 7, 7, 7];

  const check = async (step: number) => {
    const listed: { id: string; plan: string | null; subscription: Sub | null }[] = [];
    let cursor: string | null = null;
    do {
      const r = await app.call(
        "GET",
        `/v1/projects/${pk}/customers?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
        { key: dev.dat },
      );
      listed.push(...r.body.customers);
      cursor = r.body.nextCursor;
    } while (cursor);
    const live = listed.filter((c) =>
      c.subscription && ["active", "trialing", "past_due"].includes(c.subscription.status)
    );
    const trialing = live.filter((c) => c.subscription!.status === "trialing");
    const dash = (await app.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
    const context = `step ${step}, seed ${SEED}: ${log.slice(-6).join(" | ")}`;
    assert.deepEqual(
      {
        customers: dash.customers,
        activeSubscriptions: dash.activeSubscriptions,
        canceling: dash.canceling,
        trialing: dash.trialing,
        mrr: dash.mrr,
      },
      {
        customers: listed.length,
        // in trial is counted apart: not active yet, and nothing in MRR
        activeSubscriptions: live.length - trialing.length,
        canceling: live.filter((c) => c.subscription!.cancelAtPeriodEnd).length,
        trialing: trialing.length,
        mrr: live.filter((c) => c.subscription!.status !== "trialing")
          .reduce((a, c) => a + MONTHLY[c.subscription!.tier!]!, 0),
      },
      context,
    );
    for (const c of live) assert.equal(c.plan, c.subscription!.tier, `${c.id}'s plan, ${context}`);
  };

  for (let step = 0; step < STEPS; step++) {
    await actions[pick(weights)]!();
    await check(step);
  }
  assert.deepEqual(fivexx, []);
  const seen = new Set(log.map((l) => l.split(" ").slice(0, 2).join(" ")));
  assert.ok(seen.size >= 8, `the steps reached the routes: ${[...seen].join(", ")}`);
  assert.ok(log.some((l) => /\/complete 200$/.test(l)), "checkouts were paid");
});
