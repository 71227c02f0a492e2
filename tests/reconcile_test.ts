/**
 * [e2e] Reconciliation against the Stripe double with the real SDK: changes whose events never
 * arrived are found on every page of the account's subscriptions (Stripe pages by 100, newest
 * first) and among the canceled ones (which Stripe lists only when asked for every status).
 */
import assert from "node:assert/strict";
import { createCheckout } from "@/tests/helpers.ts";
import { connectedProject, deliverEvents } from "@/tests/stripe_double.ts";
import { reconcileAll, reconcileProject } from "@/lib/billing/reconcile.ts";
import { getProject } from "@/lib/kv/projects.ts";

const TIERS = [
  { name: "free", price: 0, limit: 3 },
  { name: "pro", price: 1900, limit: 100 },
];

Deno.test("[e2e] reconciliation reads every page of the account's subscriptions, canceled ones too", async () => {
  await using env = await connectedProject({ tiers: TIERS });
  const { srv, double, account, sk, pk, app } = env;
  const customers = Array.from({ length: 105 }, (_, i) => `c${i}`);
  for (const user of customers) {
    const co = await createCheckout(srv, { sk, user });
    assert.equal(co.status, 200, co.text);
    await deliverEvents(srv, double, double.pay(account, co.body.sessionId));
  }
  const subOf = async (user: string) =>
    (await srv.call("GET", `/api/customers/${user}`, { key: sk })).body.customer;
  const oldest = (await subOf("c0")).subscription.id as string;
  const middle = (await subOf("c50")).subscription.id as string;

  // two changes made at Stripe whose events never arrive: the oldest subscription (on the
  // second page) canceled now, another set to cancel at its period's end
  const stripe = async (method: string, path: string, body?: string) => {
    const res = await fetch(`${double.url}/v1${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${double.apiKey}`,
        "Stripe-Account": account,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      ...(body ? { body } : {}),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return await res.json();
  };
  assert.equal((await stripe("DELETE", `/subscriptions/${oldest}`)).status, "canceled");
  await stripe("POST", `/subscriptions/${middle}`, "cancel_at_period_end=true");
  assert.equal((await subOf("c0")).plan, "pro", "nothing told us yet");

  const project = (await getProject(app.kv, pk))!;
  const listed = double.requests.length;
  assert.equal(await reconcileProject(app.services, project), 2);
  const lists = double.requests.slice(listed).filter((r) =>
    r.method === "GET" && r.path === "/v1/subscriptions"
  );
  assert.equal(lists.length, 2, "105 subscriptions are two pages of 100");
  assert.match(lists[0]!.raw ?? "", /status=all/);
  assert.match(lists[1]!.raw ?? "", /starting_after=sub_/);

  const c0 = await subOf("c0");
  assert.equal(c0.plan, "free");
  assert.equal((await subOf("c50")).subscription.cancelAtPeriodEnd, true);
  const dash = (await srv.call("GET", "/api/dashboard", { key: sk })).body;
  assert.deepEqual([dash.activeSubscriptions, dash.canceling], [104, 1]);

  assert.equal(await reconcileProject(app.services, project), 0, "nothing left to repair");
  assert.deepEqual(await reconcileAll(app.services), { projects: 1, repaired: 0, failed: [] });
});
