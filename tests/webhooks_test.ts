/** [e2e] POST /webhook/stripe: signatures, duplicates, replays and out-of-order events. */
import assert from "node:assert/strict";
import Stripe from "stripe";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { signPayload } from "@/lib/payments/signature.ts";
import { testConfig } from "@/lib/config.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import { SandboxStore } from "@/lib/kv/sandbox.ts";

const SECRET = `whsec_sandbox_${testConfig().appSecret}`;
const stripe = new Stripe("sk_test_signing");

async function subscribed(app: Awaited<ReturnType<typeof testApp>>) {
  const dev = await developer(app);
  const keys = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const co = await app.call("POST", "/api/create-checkout", {
    key: keys.sk,
    headers: { "X-User-Id": "ann" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  await app.call("POST", new URL(co.body.url).pathname + "/complete");
  const cust = await app.call("GET", "/api/customers/ann", { key: keys.sk });
  const sub = await app.services.sandbox!.retrieveSubscription(
    { accountId: null, mode: "test" },
    cust.body.customer.subscription.id,
  );
  const me = await app.call("GET", "/v1/me", { key: dev.dat });
  return { ...keys, sub, account: me.body.developer.paymentConnection.test.accountId as string };
}

/**
 * The provider's subscription becomes `sub` (as a change made in Stripe's dashboard would), its
 * event not sent: the test sends the events itself. The webhook route reads the provider's state.
 */
async function atProvider(
  app: Awaited<ReturnType<typeof testApp>>,
  sub: StripeSubscription,
  account: string,
) {
  await new SandboxStore(app.kv).saveSubscription(sub, account);
}

function event(id: string, type: string, created: number, object: unknown, account: string) {
  return {
    id,
    object: "event",
    type,
    created,
    account,
    livemode: false,
    api_version: "2026-10-28.endive",
    data: { object },
  };
}

async function post(
  app: Awaited<ReturnType<typeof testApp>>,
  body: unknown,
  opts: { secret?: string; t?: number; tamper?: boolean } = {},
) {
  const payload = JSON.stringify(body);
  const t = opts.t ?? Math.floor(app.clock.now() / 1000);
  const sig = await signPayload(stripe, { payload, secret: opts.secret ?? SECRET, timestamp: t });
  return app.call("POST", "/webhook/stripe", {
    raw: opts.tamper ? payload.replace("ann", "bob") : payload,
    headers: { "Content-Type": "application/json", "Stripe-Signature": sig },
  });
}

Deno.test("[e2e] webhook signature failures are 400 and change nothing", async () => {
  await using app = await testApp();
  const { sk, sub, account } = await subscribed(app);
  const now = Math.floor(app.clock.now() / 1000);
  const canceled = { ...sub, status: "canceled" };
  const ev = event("evt_sig_1", "customer.subscription.deleted", now, canceled, account);
  for (
    const [what, opts] of [
      ["wrong secret", { secret: "whsec_wrong" }],
      ["stale timestamp", { t: now - 301 }],
      ["future timestamp", { t: now + 3600 }],
      ["altered body", { tamper: true }],
    ] as const
  ) {
    const res = await post(app, ev, opts);
    assert.equal(res.status, 400, what);
    assert.equal(res.body.error.code, "invalid_request", what);
  }
  const missing = await app.call("POST", "/webhook/stripe", {
    raw: JSON.stringify(ev),
    headers: { "Content-Type": "application/json" },
  });
  assert.equal(missing.status, 400);
  const c = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(c.body.customer.plan, "pro", "nothing changed");
  await atProvider(app, canceled as StripeSubscription, account);
  const ok = await post(app, ev);
  assert.equal(ok.status, 200, "the same event, properly signed, applies");
  assert.equal(
    (await app.call("GET", "/api/customers/ann", { key: sk })).body.customer.plan,
    "free",
  );
});

Deno.test("[e2e] duplicate and replayed events apply once; unknown types are acknowledged", async () => {
  await using app = await testApp();
  const { sk, sub, account } = await subscribed(app);
  const now = Math.floor(app.clock.now() / 1000) + 1;
  const canceling: StripeSubscription = { ...sub, cancel_at_period_end: true };
  const ev = event("evt_dup_1", "customer.subscription.updated", now, canceling, account);
  await atProvider(app, canceling, account);
  const first = await post(app, ev);
  assert.equal(first.status, 200);
  assert.equal(first.body.outcome, "applied");
  const again = await post(app, ev);
  assert.equal(again.status, 200);
  assert.equal(again.body.outcome, "duplicate");
  const dash = await app.call("GET", "/api/dashboard", { key: sk });
  assert.equal(dash.body.canceling, 1);
  assert.equal(dash.body.activeSubscriptions, 1);
  const unknown = await post(app, event("evt_x", "payout.paid", now, { id: "po_1" }, account));
  assert.equal(unknown.status, 200);
  // a refund of a payment that is not one of our orders is acknowledged and changes nothing
  const foreign = await post(
    app,
    event("evt_r", "charge.refunded", now, {
      id: "ch_1",
      amount: 500,
      amount_refunded: 500,
      metadata: {},
    }, account),
  );
  assert.equal(foreign.status, 200);
  assert.equal(foreign.body.outcome, "ignored");
  assert.equal(unknown.body.outcome, "ignored");
});

Deno.test("[e2e] the same event delivered several times at once (an at-least-once sender) applies once", async () => {
  await using app = await testApp();
  const { sk, sub, account } = await subscribed(app);
  const now = Math.floor(app.clock.now() / 1000) + 1;
  const canceling = event("evt_par_1", "customer.subscription.updated", now, {
    ...sub,
    cancel_at_period_end: true,
  }, account);
  await atProvider(app, { ...sub, cancel_at_period_end: true }, account);
  const first = await Promise.all(Array.from({ length: 6 }, () => post(app, canceling)));
  assert.ok(first.every((r) => r.status === 200), first.map((r) => r.text).join());
  assert.equal(first.filter((r) => r.body.outcome === "applied").length, 1);
  const ended = event("evt_par_2", "customer.subscription.deleted", now + 1, {
    ...sub,
    status: "canceled",
  }, account);
  await atProvider(app, { ...sub, status: "canceled" }, account);
  const second = await Promise.all(Array.from({ length: 6 }, () => post(app, ended)));
  assert.ok(second.every((r) => r.status === 200), second.map((r) => r.text).join());
  assert.equal(second.filter((r) => r.body.outcome === "applied").length, 1);
  const dash = await app.call("GET", "/api/dashboard", { key: sk });
  assert.deepEqual(
    [dash.body.activeSubscriptions, dash.body.canceling, dash.body.mrr],
    [0, 0, 0],
    "counted out once, never below zero",
  );
});

Deno.test("[e2e] out-of-order events: the provider's current state wins, whatever order they come in", async () => {
  await using app = await testApp();
  const { sk, sub, account } = await subscribed(app);
  const t0 = Math.floor(app.clock.now() / 1000);
  // canceled at period end and resumed in one second; the events come in reverse order, each
  // carrying its own moment's state (applied as they came, the last one, "canceling", would win)
  const cancel = event("evt_cancel", "customer.subscription.updated", t0, {
    ...sub,
    cancel_at_period_end: true,
  }, account);
  const resume = event("evt_resume", "customer.subscription.updated", t0, {
    ...sub,
    cancel_at_period_end: false,
  }, account);
  await atProvider(app, { ...sub, cancel_at_period_end: false }, account);
  for (const ev of [resume, cancel]) assert.equal((await post(app, ev)).status, 200);
  const c = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(
    c.body.customer.subscription.cancelAtPeriodEnd,
    false,
    "renewing, as at the provider",
  );
  // then canceled again, a second later: its event comes before a late copy of the older ones
  await atProvider(app, { ...sub, cancel_at_period_end: true }, account);
  const again = { ...cancel, id: "evt_cancel_again", created: t0 + 1 };
  for (const ev of [again, { ...resume, id: "evt_resume_copy" }]) await post(app, ev);
  const d = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(
    d.body.customer.subscription.cancelAtPeriodEnd,
    true,
    "canceling, as at the provider",
  );
  // a deletion is final: a late "updated" of the same subscription does not revive it
  await atProvider(app, { ...sub, status: "canceled" }, account);
  const deleted = event("evt_del", "customer.subscription.deleted", t0 + 30, {
    ...sub,
    status: "canceled",
  }, account);
  const late = event("evt_late", "customer.subscription.updated", t0 + 40, {
    ...sub,
    status: "active",
  }, account);
  assert.equal((await post(app, deleted)).body.outcome, "applied");
  await post(app, late);
  const after = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(after.body.customer.plan, "free");
  const dash = await app.call("GET", "/api/dashboard", { key: sk });
  assert.deepEqual([dash.body.activeSubscriptions, dash.body.canceling, dash.body.mrr], [0, 0, 0]);
  // an event about a subscription the provider doesn't have changes nothing
  const forged = await post(
    app,
    event("evt_forged", "customer.subscription.updated", t0 + 50, {
      ...sub,
      id: "sub_forged",
    }, account),
  );
  assert.equal(forged.body.outcome, "ignored: no such subscription");
});

Deno.test("[e2e] events from another connected account don't touch the project", async () => {
  await using app = await testApp();
  const { sk, sub } = await subscribed(app);
  const ev = event(
    "evt_foreign",
    "customer.subscription.deleted",
    Math.floor(app.clock.now() / 1000) + 5,
    { ...sub, status: "canceled" },
    "acct_someone_else",
  );
  const res = await post(app, ev);
  assert.equal(res.status, 200);
  assert.equal(res.body.outcome, "ignored");
  assert.equal(
    (await app.call("GET", "/api/customers/ann", { key: sk })).body.customer.plan,
    "pro",
  );
});

Deno.test("[e2e] invoice.payment_failed keeps the plan while past_due; invoice.paid restores active", async () => {
  await using app = await testApp();
  const { sk, sub, account } = await subscribed(app);
  const sb = app.services.sandbox!;
  const t0 = Math.floor(app.clock.now() / 1000);
  // the provider now says past_due (Stripe retries the card)
  await app.kv.set(["sandbox", "subscription", sub.id], { ...sub, status: "past_due", account });
  const invoice = {
    id: "in_1",
    object: "invoice",
    subscription: null,
    parent: { subscription_details: { subscription: sub.id, metadata: sub.metadata } },
  };
  const failed = await post(
    app,
    event("evt_fail", "invoice.payment_failed", t0 + 5, invoice, account),
  );
  assert.equal(failed.body.outcome, "applied");
  let c = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(c.body.customer.subscription.status, "past_due");
  assert.equal(c.body.customer.plan, "pro", "past_due keeps the paid plan during retries");
  await app.kv.set(["sandbox", "subscription", sub.id], { ...sub, status: "unpaid", account });
  await post(app, event("evt_fail2", "invoice.payment_failed", t0 + 10, invoice, account));
  c = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(c.body.customer.plan, "free", "unpaid falls back to the free tier");
  assert.equal((await app.call("GET", "/api/dashboard", { key: sk })).body.activeSubscriptions, 0);
  await app.kv.set(["sandbox", "subscription", sub.id], { ...sub, status: "active", account });
  await post(app, event("evt_paid", "invoice.paid", t0 + 15, invoice, account));
  c = await app.call("GET", "/api/customers/ann", { key: sk });
  assert.equal(c.body.customer.plan, "pro");
  assert.equal((await app.call("GET", "/api/dashboard", { key: sk })).body.activeSubscriptions, 1);
  // an invoice of a subscription the provider doesn't have is answered (not retried for days)
  const stray = await post(
    app,
    event("evt_stray", "invoice.paid", t0 + 20, {
      ...invoice,
      parent: { subscription_details: { subscription: "sub_gone", metadata: sub.metadata } },
    }, account),
  );
  assert.equal(stray.status, 200, stray.text);
  assert.equal(stray.body.outcome, "ignored: no such subscription");
  assert.equal(
    (await app.call("GET", "/api/customers/ann", { key: sk })).body.customer.plan,
    "pro",
  );
  void sb;
});
