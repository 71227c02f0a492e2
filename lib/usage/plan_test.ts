import assert from "node:assert/strict";
import { aggregateDeltas, planOf, planSpan } from "@/lib/usage/plan.ts";
import type { Customer, Subscription } from "@/lib/kv/customers.ts";
import type { Project } from "@/lib/kv/projects.ts";

const sub = (o: Partial<Subscription> = {}): Subscription => ({
  id: "sub_1",
  tierId: "tier_pro",
  priceId: "price_1",
  monthlyAmount: 1900,
  currency: "usd",
  status: "active",
  currentPeriodStart: "2026-11-01T00:00:00.000Z",
  currentPeriodEnd: "2026-12-01T00:00:00.000Z",
  cancelAtPeriodEnd: false,
  updatedAt: 1,
  ...o,
});

const byKey = (pk: string, b: Subscription | null, a: Subscription | null) =>
  Object.fromEntries(aggregateDeltas(pk, b, a).map((d) => [d.key.slice(2).join("/"), d.delta]));

Deno.test("aggregateDeltas() moves active, canceling, MRR and the tiers' payers", () => {
  assert.deepEqual(byKey("pk", null, sub()), {
    subs_active: 1,
    mrr: 1900,
    "tier_subscribers/tier_pro": 1,
    "price_subscribers/tier_pro/price_1": 1,
  });
  assert.deepEqual(byKey("pk", sub(), sub({ cancelAtPeriodEnd: true })), { subs_canceling: 1 });
  assert.deepEqual(byKey("pk", sub(), sub({ tierId: "tier_team", monthlyAmount: 4900 })), {
    mrr: 3000,
    "tier_subscribers/tier_pro": -1,
    "tier_subscribers/tier_team": 1,
    "price_subscribers/tier_pro/price_1": -1,
    "price_subscribers/tier_team/price_1": 1,
  });
  assert.deepEqual(byKey("pk", sub({ cancelAtPeriodEnd: true }), null), {
    subs_active: -1,
    subs_canceling: -1,
    mrr: -1900,
    "tier_subscribers/tier_pro": -1,
    "price_subscribers/tier_pro/price_1": -1,
  });
  assert.deepEqual(byKey("pk", sub({ status: "canceled" }), null), {}, "nothing left to drop");
});

Deno.test("planSpan(): planOf answers the same all over the span, and not past it", () => {
  const project = {
    tiers: [
      { id: "tier_free", name: "free", price: 0, limit: 10 },
      { id: "tier_pro", name: "pro", price: 19, limit: 1000 },
    ],
  } as unknown as Project;
  const customer = (subscription: Subscription | null) =>
    ({ id: "c1", tierId: null, subscription }) as unknown as Customer;
  const at = (ms: number) => ({ clock: { now: () => ms } });
  const cases: [string, Customer, string][] = [
    ["no subscription", customer(null), "2026-12-05T10:00:00.000Z"],
    ["inside its period", customer(sub()), "2026-11-20T00:00:00.000Z"],
    ["past its end, rolled forward", customer(sub()), "2027-02-03T00:00:00.000Z"],
    [
      "not started yet (the calendar month, cut where it starts)",
      customer(sub({
        currentPeriodStart: "2026-11-20T00:00:00.000Z",
        currentPeriodEnd: "2026-12-20T00:00:00.000Z",
      })),
      "2026-11-10T00:00:00.000Z",
    ],
    [
      "canceled (the calendar month)",
      customer(sub({ status: "canceled" })),
      "2026-11-20T00:00:00.000Z",
    ],
  ];
  for (const [what, c, iso] of cases) {
    const now = Date.parse(iso);
    const here = planOf(at(now), project, c);
    const span = planSpan(c, here.period, now);
    assert.ok(span.from <= now && now < span.until, what);
    for (const t of [span.from, now, span.until - 1, Math.floor((span.from + span.until) / 2)]) {
      assert.deepEqual(planOf(at(t), project, c), here, `${what}: same answer at ${t}`);
    }
    assert.notDeepEqual(planOf(at(span.until), project, c).period, here.period, `${what}: past it`);
  }
  // the cut: the subscription's own period starts where the span ends
  const [, future, iso] = cases[3]!;
  const span = planSpan(
    future,
    planOf(at(Date.parse(iso)), project, future).period,
    Date.parse(iso),
  );
  assert.equal(new Date(span.until).toISOString(), "2026-11-20T00:00:00.000Z");
});
