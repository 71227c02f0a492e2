/**
 * [e2e] The meter through the API in random order with time passing: tracking of random
 * quantities (retried with their Idempotency-Key now and then), usage resets, free plans changed,
 * a paid tier with overage bought and cancelled, and the clock run across month ends and
 * renewals. A model keeps each customer's count per period (the period the server names): every
 * call is accepted or refused as the model decides from the limit (and the overage cap), a retry
 * is answered as the first call and counts nothing, and every usage read has the model's count,
 * limit, remaining and overage — with two instances on one store, each step sent to either.
 * Seeded (USAGE_SEED).
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { prng } from "@/tests/prng.ts";

const SEED = Number(Deno.env.get("USAGE_SEED") ?? 20261206);
const STEPS = 300;
const URLS = { successUrl: "https://app.example/ok", cancelUrl: "https://app.example/no" };
const CAP = 4;
const TIERS = [
  { name: "free", price: 0, limit: 5 },
  { name: "starter", price: 0, limit: 8 },
  { name: "pro", price: 1900, limit: 10, overage: { unitAmount: 5, per: 1, cap: CAP } },
];

interface Usage {
  count: number;
  limit: number | null;
  remaining: number | null;
  overage: number;
  plan: string;
  periodStart: string;
}

Deno.test("[e2e] random tracking, retries, resets, plan changes and months passing: every answer is the model's", async () => {
  // two instances on one store, as behind a load balancer: each step goes to either
  await using app = await testApp();
  await using other = await testApp({ kv: app.kv, clock: app.clock });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  await app.call("GET", "/v1/connect/authorize", { key: dev.dat });
  const random = prng(SEED);
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!;
  const any = () => pick([app, other]);
  const users = ["a", "b", "c"];
  const as = (u: string, more: Record<string, string> = {}) => ({
    key: sk,
    headers: { "X-User-Id": u, ...more },
  });
  for (const id of users) {
    assert.equal((await app.call("POST", "/api/customers", { key: sk, body: { id } })).status, 201);
  }
  const counts = new Map<string, number>(); // `${user} ${periodStart}` → count
  const countOf = (u: string, period: string) => counts.get(`${u} ${period}`) ?? 0;
  const limitOf = new Map(TIERS.map((t) => [t.name, t.limit]));
  const log: string[] = [];
  const usage = async (u: string): Promise<Usage> => {
    const r = await any().call("GET", "/api/usage", as(u));
    assert.equal(r.status, 200, r.text);
    return r.body.usage;
  };
  const keys: { user: string; key: string; quantity: number; answer: string }[] = [];
  let made = 0;

  const track = async (u: string, quantity: number, key?: string) => {
    const before = await usage(u);
    const limit = before.limit;
    const extra = before.plan === "pro" ? CAP : 0;
    const count = countOf(u, before.periodStart);
    const accept = limit === null || count + quantity <= limit + extra;
    const r = await any().call("POST", "/api/data", {
      ...as(u, key ? { "Idempotency-Key": key } : {}),
      body: { quantity },
    });
    log.push(`${u} +${quantity} on ${before.plan} at ${count}/${limit}: ${r.status}`);
    assert.equal(r.status, accept ? 200 : 429, `${log.at(-1)} ${r.text}`);
    if (accept) {
      assert.equal(r.body.usage.periodStart, before.periodStart);
      counts.set(`${u} ${before.periodStart}`, count + quantity);
      assert.equal(r.body.usage.count, count + quantity);
      if (key) keys.push({ user: u, key, quantity, answer: JSON.stringify(r.body) });
    } else assert.equal(r.body.error.code, "tier_limit_reached");
  };

  const actions: (() => Promise<unknown>)[] = [
    () => track(pick(users), 1 + Math.floor(random() * 3)),
    () => track(pick(users), 1, `k${made++}`),
    async () => {
      // a retry of an earlier call: its first answer again, nothing counted
      const k = pick([...keys, undefined as never]);
      if (!k) return;
      const r = await any().call("POST", "/api/data", {
        ...as(k.user, { "Idempotency-Key": k.key }),
        body: { quantity: k.quantity },
      });
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("idempotent-replayed"), "true");
      assert.equal(JSON.stringify(r.body), k.answer);
    },
    async () => {
      const u = pick(users);
      const now = await usage(u);
      const r = await any().call("POST", `/v1/projects/${pk}/customers/${u}/usage/reset`, {
        key: dev.dat,
      });
      assert.equal(r.status, 200, r.text);
      counts.set(`${u} ${now.periodStart}`, 0);
      log.push(`${u} reset`);
    },
    async () => {
      const u = pick(users);
      const r = await any().call("PATCH", `/api/customers/${u}`, {
        key: sk,
        body: { plan: pick(["free", "starter"]) },
      });
      assert.ok(r.status === 200 || r.status === 409, r.text); // 409 while a subscription pays
      log.push(`${u} plan: ${r.status}`);
    },
    async () => {
      const u = pick(users);
      const co = await any().call("POST", "/api/create-checkout", {
        ...as(u),
        body: { tier: "pro", ...URLS },
      });
      if (co.status === 200 && co.body.url.includes("/sandbox/")) {
        const paid = await any().call("POST", `${new URL(co.body.url).pathname}/complete`, {
          body: {},
        });
        assert.equal(paid.status, 200, paid.text);
        log.push(`${u} bought pro`);
      }
    },
    async () => {
      const u = pick(users);
      const r = await any().call("POST", `/v1/projects/${pk}/customers/${u}/subscription/cancel`, {
        key: dev.dat,
        body: { atPeriodEnd: random() < 0.5 },
      });
      log.push(`${u} cancel: ${r.status}`);
    },
    async () => {
      app.clock.advance(Math.floor(random() * 12 + 1) * 86_400_000);
      await any().services.sandbox!.tick();
      log.push(`clock ${new Date(app.clock.now()).toISOString().slice(0, 10)}`);
    },
  ];
  const weights = [0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 7];

  // each step comes more than CACHE_TTL_MS after the one before, so that what one instance
  // wrote is what the other reads (within that time it may read its own older counts)
  const later = () => app.clock.advance(app.services.config.cacheTtlMs + 1);
  for (let step = 0; step < STEPS; step++) {
    later();
    await actions[pick(weights)]!();
    later();
    for (const u of users) {
      const got = await usage(u);
      const count = countOf(u, got.periodStart);
      const limit = limitOf.get(got.plan)!;
      const context = `step ${step}, seed ${SEED}, ${u}: ${log.slice(-6).join(" | ")}`;
      assert.equal(got.count, count, `count, ${context}`);
      assert.equal(got.limit, limit, `limit, ${context}`);
      assert.equal(got.remaining, Math.max(0, limit - count), `remaining, ${context}`);
      // calls past the limit are overage on a tier that sells it; a plan lowered under a
      // count leaves none (its calls were counted within another plan's limit)
      const overage = got.plan === "pro" ? Math.max(0, count - limit) : 0;
      assert.equal(got.overage, overage, `overage, ${context}`);
    }
  }
  assert.ok(log.some((l) => l.includes("bought pro")), "pro was bought");
  assert.ok(log.some((l) => / 429$/.test(l)), "calls were refused at the limit");
  assert.ok(keys.length > 5, "calls with an Idempotency-Key were made");
});
