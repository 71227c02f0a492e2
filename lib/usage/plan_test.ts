import assert from "node:assert/strict";
import { aggregateDeltas } from "@/lib/usage/plan.ts";
import type { Subscription } from "@/lib/kv/customers.ts";

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
