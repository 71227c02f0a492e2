import assert from "node:assert/strict";
import { extraPaidSubscriptions, snapshot, supersedes } from "@/lib/billing/subscriptions.ts";
import { contribution } from "@/lib/usage/plan.ts";
import { buildTiers } from "@/lib/catalog/tiers.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Subscription } from "@/lib/kv/customers.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import { stripeShape } from "@/lib/payments/fixtures.ts";

const project: Project = {
  pk: "pk_test_x",
  platformId: "plt_x",
  name: "x",
  type: "saas",
  mode: "test",
  secretHash: "",
  listId: "",
  createdAt: "",
  updatedAt: "",
  livePk: null,
  tiers: buildTiers("saas", [
    { name: "free", price: 0 },
    { name: "pro", price: 1900 },
    { name: "big", price: 24000, interval: "year" },
  ]).map((t, i) => ({ ...t, priceId: `price_${i}`, productId: `prod_${i}` })),
};

function stripeSub(
  priceId: string,
  amount: number,
  interval: "month" | "year",
  extra: Partial<StripeSubscription> = {},
) {
  return stripeShape<StripeSubscription>("subscription", {
    id: "sub_1",
    status: "active",
    cancel_at_period_end: false,
    metadata: {},
    items: {
      data: [stripeShape("subscription_item", {
        price: stripeShape("price", {
          id: priceId,
          unit_amount: amount,
          recurring: { interval, interval_count: 1 },
        }),
        quantity: 1,
        current_period_start: 1_795_000_000,
        current_period_end: 1_797_592_000,
      })],
    },
    ...extra,
  });
}

Deno.test("snapshot() maps a Stripe subscription (period on the item) to the tier and monthly amount", () => {
  const s = snapshot(project, stripeSub("price_2", 24000, "year"), 5)!;
  assert.equal(s.tierId, project.tiers[2]!.id);
  assert.equal(s.monthlyAmount, 2000);
  assert.equal(s.currentPeriodStart, new Date(1_795_000_000_000).toISOString());
  assert.equal(s.updatedAt, 5);
  assert.equal(snapshot(project, stripeSub("price_unknown", 1, "month"), 1), null);
});

Deno.test("contribution() counts paid states only; canceling separately; trials outside MRR", () => {
  const s = snapshot(project, stripeSub("price_1", 1900, "month"), 1)!;
  const none = { active: 0, trialing: 0, canceling: 0, mrr: 0, paying: 0 };
  const paid = { active: 1, trialing: 0, canceling: 0, mrr: 1900, paying: 1 };
  assert.deepEqual(contribution(s), paid);
  assert.deepEqual(contribution({ ...s, cancelAtPeriodEnd: true }), { ...paid, canceling: 1 });
  assert.deepEqual(contribution({ ...s, status: "past_due" }), paid);
  assert.deepEqual(contribution({ ...s, status: "trialing" }), {
    ...none,
    trialing: 1,
    paying: 1,
  });
  assert.deepEqual(contribution({ ...s, status: "canceled" }), none);
  assert.deepEqual(contribution(null), none);
});

Deno.test("supersedes(): newer state wins, an ended subscription stays ended, old subs don't drop new ones", () => {
  const base = snapshot(project, stripeSub("price_1", 1900, "month"), 10)!;
  const older: Subscription = { ...base, updatedAt: 5, cancelAtPeriodEnd: true };
  assert.equal(supersedes(base, older), false);
  assert.equal(supersedes(base, { ...base, updatedAt: 11 }), true);
  const ended: Subscription = { ...base, status: "canceled", updatedAt: 12 };
  assert.equal(supersedes(ended, { ...base, updatedAt: 13 }), false);
  const other: Subscription = { ...base, id: "sub_2", status: "canceled", updatedAt: 20 };
  assert.equal(supersedes(base, other), false, "another subscription ending doesn't end this one");
  assert.equal(
    supersedes(ended, { ...base, id: "sub_3", updatedAt: 1 }),
    true,
    "a new purchase replaces an ended one",
  );
});

Deno.test("supersedes(): of two paid subscriptions the later purchase wins, whatever order their events come in", () => {
  const base = snapshot(project, stripeSub("price_1", 1900, "month"), 10)!;
  const first: Subscription = { ...base, id: "sub_a", createdAt: 100, updatedAt: 100 };
  const second: Subscription = { ...base, id: "sub_b", createdAt: 101, updatedAt: 101 };
  assert.equal(supersedes(first, second), true);
  // the first purchase's later events (a renewal, an update) never take the customer back
  assert.equal(supersedes(second, { ...first, updatedAt: 500 }), false);
  // created in the same second: the id decides, the same way both ways round
  const twin: Subscription = { ...second, id: "sub_c", createdAt: 100 };
  assert.notEqual(supersedes(first, twin), supersedes(twin, first));
  // records written before the creation time was kept: the newer event, as before
  const { createdAt: _, ...legacyFields } = first;
  const legacy: Subscription = { ...legacyFields, updatedAt: 50 };
  assert.equal(supersedes(legacy, second), true);
  assert.equal(supersedes({ ...legacy, updatedAt: 200 }, second), false);
});

Deno.test("extraPaidSubscriptions(): a paid subscription other than the customer's own is to end", () => {
  const base = snapshot(project, stripeSub("price_1", 1900, "month"), 10)!;
  const held: Subscription = { ...base, id: "sub_held" };
  const other: Subscription = { ...base, id: "sub_other" };
  assert.deepEqual(extraPaidSubscriptions(held, [other, held]), ["sub_other"]);
  assert.deepEqual(extraPaidSubscriptions(held, [other, other]), ["sub_other"]);
  assert.deepEqual(extraPaidSubscriptions(held, [null, held]), []);
  assert.deepEqual(
    extraPaidSubscriptions(held, [{ ...other, status: "canceled" }, held]),
    [],
    "an ended one is left alone",
  );
  assert.deepEqual(
    extraPaidSubscriptions(held, [{ ...other, status: "incomplete" }]),
    [],
    "one not paid yet is left alone",
  );
  assert.deepEqual(
    extraPaidSubscriptions({ ...held, status: "canceled" }, [other]),
    [],
    "nothing is ended when what the customer holds doesn't pay",
  );
  assert.deepEqual(extraPaidSubscriptions(null, [other]), []);
});
