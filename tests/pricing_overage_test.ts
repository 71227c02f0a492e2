/**
 * [e2e] Overage: calls past the limit accepted up to the cap, exactly, then billed once at period
 * end: on the renewal invoice, or on a final invoice of its own when the subscription ends.
 */
import assert from "node:assert/strict";
import {
  createCheckout,
  developer,
  project,
  servePort,
  subscribe,
  testApp,
} from "@/tests/helpers.ts";
import { connectedProject, deliverEvents } from "@/tests/stripe_double.ts";
import { getProject } from "@/lib/kv/projects.ts";

const TIERS = [
  { name: "free", price: 0, limit: 3 },
  { name: "pro", price: 1900, limit: 50, overage: { unitAmount: 2, per: 10, cap: 20 } },
];

/** Buys the pro tier for `user` through the sandbox's checkout page. */
async function buyPro(srv: ReturnType<typeof servePort>, sk: string, user: string) {
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": user },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  assert.equal(co.status, 200, co.text);
  const path = new URL(co.body.url).pathname;
  const page = await srv.call("GET", path, { headers: { Accept: "text/html" } });
  assert.match(page.text, /\$0\.02 per 10 calls past the limit, billed at each period's end/);
  assert.match(page.text, /Total: <strong>\$19\.00/);
  assert.equal((await srv.call("POST", `${path}/complete`, { body: {} })).status, 200);
}

async function subscribed(user: string) {
  const app = await testApp();
  const srv = servePort(app);
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, { tiers: TIERS });
  await buyPro(srv, sk, user);
  const close = async () => {
    await srv[Symbol.asyncDispose]();
    await app[Symbol.asyncDispose]();
  };
  return { app, srv, dev, sk, pk, close };
}

/** A project of TIERS whose test mode is connected to a Stripe double (the real SDK talks to it). */
const withDouble = () => connectedProject({ tiers: TIERS });

/** Buys the pro tier for `user` through the double's Checkout (its events delivered). */
async function buyProAtDouble(t: Awaited<ReturnType<typeof withDouble>>, user: string) {
  const co = await t.srv.call("POST", "/api/create-checkout", {
    key: t.sk,
    headers: { "X-User-Id": user },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  assert.equal(co.status, 200, co.text);
  await deliverEvents(t.srv, t.double, t.double.pay(t.account, co.body.sessionId));
}

/** Makes `n` calls for `user`, each answered 200. */
async function calls(
  t: { srv: ReturnType<typeof servePort>; sk: string },
  user: string,
  n: number,
) {
  for (let i = 0; i < n; i++) {
    const r = await t.srv.call("POST", "/api/data", { key: t.sk, headers: { "X-User-Id": user } });
    assert.equal(r.status, 200, r.text);
  }
}

/** What the sandbox holds of a kind (its meter events, its invoices). */
async function sandboxObjects<T>(kv: Deno.Kv, kind: string): Promise<T[]> {
  const out: T[] = [];
  for await (const e of kv.list<T>({ prefix: ["sandbox", kind] })) out.push(e.value);
  return out;
}

Deno.test("[e2e] 200 concurrent calls at limit 50 with overage cap 20: exactly 70 accepted, 20 as overage", async () => {
  const t = await subscribed("heavy");
  try {
    const h = { "X-User-Id": "heavy" };
    const res = await Promise.all(
      Array.from({ length: 200 }, () => t.srv.call("POST", "/api/data", { key: t.sk, headers: h })),
    );
    const ok = res.filter((r) => r.status === 200);
    assert.equal(ok.length, 70);
    assert.equal(
      res.filter((r) => r.status === 429 && r.body.error.code === "tier_limit_reached").length,
      130,
    );
    assert.deepEqual(
      ok.map((r) => r.body.usage.count).sort((a, b) => a - b),
      Array.from({ length: 70 }, (_, i) => i + 1),
    );
    const past = ok.filter((r) => r.body.usage.count > 50);
    assert.ok(past.every((r) => r.body.usage.remaining === 0 && r.body.usage.overage > 0));
    const u = await t.srv.call("GET", "/api/usage", { key: t.sk, headers: h });
    assert.deepEqual(
      {
        count: u.body.usage.count,
        overage: u.body.usage.overage,
        remaining: u.body.usage.remaining,
      },
      { count: 70, overage: 20, remaining: 0 },
    );
    const refused = res.find((r) => r.status === 429)!;
    assert.match(refused.body.error.message, /20 past it as overage/);
    const tiers = await t.srv.call("GET", `/v1/projects/${t.pk}/tiers`, { key: t.dev.dat });
    assert.deepEqual(tiers.body.tiers[1].overage, { unitAmount: 2, per: 10, cap: 20 });
    const page = await t.srv.call("GET", `/dashboard/projects/${t.pk}/customers/heavy`, {
      headers: { Cookie: t.dev.cookie, Accept: "text/html" },
    });
    assert.match(
      page.text,
      /20 calls past the limit, billed at the period&#39;s end|20 calls past the limit, billed at the period's end/,
    );
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] at period end the overage is reported once as a meter event and billed on the renewal invoice", async () => {
  const t = await subscribed("ana");
  try {
    const h = { "X-User-Id": "ana" };
    for (let i = 0; i < 63; i++) {
      assert.equal(
        (await t.srv.call("POST", "/api/data", { key: t.sk, headers: h })).status,
        200,
      );
    }
    t.app.clock.advance(31 * 86_400_000);
    assert.ok(await t.app.services.sandbox!.tick() >= 1);
    const events: { value: number }[] = [];
    for await (
      const e of t.app.kv.list<{ value: number }>({ prefix: ["sandbox", "meter_event"] })
    ) {
      events.push(e.value);
    }
    assert.deepEqual(events.map((e) => e.value), [13], "13 calls past the limit of 50");
    const m = (await t.srv.call("GET", `/v1/projects/${t.pk}/dashboard`, { key: t.dev.dat })).body;
    assert.equal(m.overageRevenue, 4, "13 calls = 2 blocks of 10 (rounded up) × 2");
    const log = await t.srv.call("GET", `/v1/projects/${t.pk}/events?type=invoice.created`, {
      key: t.dev.dat,
    });
    assert.match(log.body.events[0].summary, /overage of ana: 13 calls, 4 billed/);
    // the new period starts from zero
    const u = await t.srv.call("GET", "/api/usage", { key: t.sk, headers: h });
    assert.equal(u.body.usage.count, 0);
    // a period closes once, however often it is asked
    const { closeOverage } = await import("@/lib/billing/overage.ts");
    const { getProject } = await import("@/lib/kv/projects.ts");
    const sub = (await t.srv.call("GET", "/api/customers/ana", { key: t.sk })).body.customer;
    const again = await closeOverage(t.app.services, (await getProject(t.app.kv, t.pk))!, {
      acct: { accountId: null, mode: "test" },
      customerId: "ana",
      providerCustomer: "cus_x",
      subscriptionId: sub.subscription.id,
      period: {
        start: Date.parse(sub.subscription.currentPeriodStart) / 1000 - 30 * 86400,
        end: Date.parse(sub.subscription.currentPeriodStart) / 1000,
      },
    });
    assert.equal(again.closed === "now" && again.calls > 0, false);
    assert.equal(
      (await t.srv.call("GET", `/v1/projects/${t.pk}/dashboard`, { key: t.dev.dat })).body
        .overageRevenue,
      4,
    );
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] overage needs a paid tier with a limit", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, { tiers: TIERS });
  const free = await app.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "gratis", price: 0, limit: 5, overage: { unitAmount: 1 } },
  });
  assert.equal(free.status, 422, free.text);
  const unlimited = await app.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "unl", price: 900, limit: null, overage: { unitAmount: 1 } },
  });
  assert.equal(unlimited.status, 422);
  assert.equal(unlimited.body.error.details[0].field, "overage");
});

Deno.test("[e2e] Stripe (double, real SDK): a meter and a metered price per overage tier; the closed period is one meter event", async () => {
  await using t = await withDouble();
  const { double, srv, dev, sk, pk, account } = t;
  const deliver = async (e: Record<string, unknown> & { id: string }) =>
    (await deliverEvents(srv, double, [e]))[0]!;
  const meters = double.requests.filter((r) => r.path === "/v1/billing/meters");
  assert.equal(meters.length, 1);
  const metered = double.requests.filter((r) => r.path === "/v1/prices").map((r) =>
    new URLSearchParams(r.raw)
  ).find((f) => f.get("recurring[usage_type]") === "metered")!;
  assert.deepEqual(
    [metered.get("unit_amount"), metered.get("transform_quantity[divide_by]")],
    ["2", "10"],
  );
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "max" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  assert.equal(co.status, 200, co.text);
  const form = new URLSearchParams(
    double.requests.find((r) => r.path === "/v1/checkout/sessions")!.raw,
  );
  assert.ok(form.get("line_items[1][price]"), "the metered price is the second line item");
  assert.equal(form.get("line_items[1][quantity]"), null, "a metered item has no quantity");
  for (const e of double.pay(account, co.body.sessionId)) await deliver(e);
  for (let i = 0; i < 55; i++) {
    await srv.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "max" } });
  }
  const sub = (await srv.call("GET", "/api/customers/max", { key: sk })).body.customer.subscription;
  const created = double.invoiceCreated(account, sub.id);
  assert.equal(await deliver(created), "applied");
  const reports = double.requests.filter((r) => r.path === "/v1/billing/meter_events");
  assert.equal(reports.length, 1);
  const report = new URLSearchParams(reports[0]!.raw);
  assert.equal(report.get("payload[value]"), "5");
  assert.match(report.get("identifier") ?? "", new RegExp(`^dream_ovg_${sub.id}_`));
  // redelivered, or drafted again: nothing more is reported or counted
  assert.equal(await deliver(created), "duplicate");
  assert.equal(await deliver(double.invoiceCreated(account, sub.id)), "ignored");
  assert.equal(double.requests.filter((r) => r.path === "/v1/billing/meter_events").length, 1);
  const m = (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  assert.equal(m.overageRevenue, 2);
});

interface SandboxInvoice {
  amount_paid: number;
  status: string;
  metadata: Record<string, string>;
  lines: { data: { description: string }[] };
}

Deno.test("[e2e] a subscription canceled at its period's end: the last period's overage is billed on a final invoice, once", async () => {
  const t = await subscribed("ana");
  try {
    await calls(t, "ana", 63);
    const c = await t.srv.call("POST", "/api/subscription/cancel", {
      key: t.sk,
      headers: { "X-User-Id": "ana" },
    });
    assert.equal(c.status, 200, c.text);
    t.app.clock.advance(31 * 86_400_000);
    assert.ok(await t.app.services.sandbox!.tick() >= 1);
    // no renewal invoice bills it (no meter event): an invoice of its own, paid by the card
    assert.deepEqual(await sandboxObjects(t.app.kv, "meter_event"), []);
    const invoices = await sandboxObjects<SandboxInvoice>(t.app.kv, "invoice");
    assert.equal(invoices.length, 1);
    assert.equal(invoices[0]!.amount_paid, 4, "13 calls = 2 blocks of 10 (rounded up) × 2");
    assert.equal(invoices[0]!.status, "paid");
    assert.equal(invoices[0]!.metadata.dream_customer, "ana");
    assert.match(invoices[0]!.lines.data[0]!.description, /pro: 13 calls past the limit of 50/);
    const m = (await t.srv.call("GET", `/v1/projects/${t.pk}/dashboard`, { key: t.dev.dat })).body;
    assert.equal(m.overageRevenue, 4);
    const log = await t.srv.call(
      "GET",
      `/v1/projects/${t.pk}/events?type=customer.subscription.deleted`,
      { key: t.dev.dat },
    );
    assert.ok(
      log.body.events.some((e: { summary: string }) =>
        /overage of ana: 13 calls, 4 billed on a final invoice/.test(e.summary)
      ),
      JSON.stringify(log.body.events),
    );
    const u = await t.srv.call("GET", "/api/usage", { key: t.sk, headers: { "X-User-Id": "ana" } });
    assert.equal(u.body.usage.plan, "free");
    // asked again (a redelivery, another tick): billed once
    t.app.clock.advance(86_400_000);
    await t.app.services.sandbox!.tick();
    const { closeEndedSubscription } = await import("@/lib/billing/overage.ts");
    const { getProject } = await import("@/lib/kv/projects.ts");
    const sub = (await t.srv.call("GET", "/api/customers/ana", { key: t.sk })).body.customer;
    const again = await closeEndedSubscription(
      t.app.services,
      (await getProject(t.app.kv, t.pk))!,
      {
        acct: { accountId: null, mode: "test" },
        customerId: "ana",
        sub: await t.app.services.payments.retrieveSubscription(
          { accountId: null, mode: "test" },
          sub.subscription.id,
        ),
      },
    );
    assert.equal(again.closed, "before");
    assert.equal((await sandboxObjects(t.app.kv, "invoice")).length, 1);
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] cancel now bills the calls past the limit so far; deleting a customer, or no calls past it, bills nothing", async () => {
  const t = await subscribed("bo");
  try {
    await buyPro(t.srv, t.sk, "cy");
    await buyPro(t.srv, t.sk, "di");
    await calls(t, "bo", 55);
    await calls(t, "cy", 60);
    await calls(t, "di", 50);
    t.app.clock.advance(10 * 86_400_000); // mid-period
    const now = await t.srv.call("POST", `/v1/projects/${t.pk}/customers/bo/subscription/cancel`, {
      key: t.dev.dat,
      body: {},
    });
    assert.equal(now.status, 200, now.text);
    const del = await t.srv.call("DELETE", `/v1/projects/${t.pk}/customers/cy`, { key: t.dev.dat });
    assert.equal(del.status, 200, del.text);
    const none = await t.srv.call("POST", `/v1/projects/${t.pk}/customers/di/subscription/cancel`, {
      key: t.dev.dat,
      body: {},
    });
    assert.equal(none.status, 200, none.text);
    const invoices = await sandboxObjects<SandboxInvoice>(t.app.kv, "invoice");
    assert.deepEqual(
      invoices.map((i) => [i.metadata.dream_customer, i.amount_paid]),
      [["bo", 2]],
      "5 calls past 50 = 1 block × 2; cy deleted with their usage; di at the limit",
    );
    const m = (await t.srv.call("GET", `/v1/projects/${t.pk}/dashboard`, { key: t.dev.dat })).body;
    assert.equal(m.overageRevenue, 2);
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] Stripe (double, real SDK): an ended subscription's last period is one invoice of its own, retried until Stripe answers", async () => {
  await using t = await withDouble();
  const { clock, double, srv, dev, sk, pk, account } = t;
  await buyProAtDouble(t, "max");
  await calls({ srv, sk }, "max", 63);
  const cancel = await srv.call("POST", "/api/subscription/cancel", {
    key: sk,
    headers: { "X-User-Id": "max" },
  });
  assert.equal(cancel.status, 200, cancel.text);
  const sub = (await srv.call("GET", "/api/customers/max", { key: sk })).body.customer.subscription;
  assert.equal(sub.cancelAtPeriodEnd, true);
  clock.advance(31 * 86_400_000);
  const ended = double.endPeriod(account, sub.id);
  // Stripe is down when it comes: the event fails (503), nothing is recorded as billed
  double.outages.set("/v1/invoices", 3);
  const { payload, signature } = await double.sign(ended);
  const post = () =>
    srv.call("POST", "/webhook/stripe", {
      raw: payload,
      headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
    });
  assert.equal((await post()).status, 503);
  assert.equal(
    (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body.overageRevenue,
    0,
  );
  // Stripe redelivers it: billed now, once
  assert.equal((await post()).status, 200);
  assert.equal((await post()).status, 200);
  const form = (path: string) =>
    double.requests.filter((r) => r.path === path && r.raw !== undefined).map((r) =>
      new URLSearchParams(r.raw)
    );
  const invoices = form("/v1/invoices");
  assert.equal(invoices.length, 1);
  const stripeSub = double.all(account, "sub_").find((o) => o.id === sub.id)!;
  assert.deepEqual(
    [
      invoices[0]!.get("pending_invoice_items_behavior"),
      invoices[0]!.get("default_payment_method"),
      invoices[0]!.get("auto_advance"),
      invoices[0]!.get("metadata[dream_customer]"),
    ],
    ["exclude", stripeSub.default_payment_method, "true", "max"],
  );
  const invoice = double.all(account, "in_")[0]!;
  const items = form("/v1/invoiceitems");
  assert.equal(items.length, 1);
  assert.deepEqual(
    [items[0]!.get("invoice"), items[0]!.get("amount"), items[0]!.get("currency")],
    [invoice.id, "4", "usd"],
  );
  assert.equal(invoice.status, "open", "finalized: Stripe collects it");
  assert.ok(
    double.requests.filter((r) => r.path.startsWith("/v1/invoice")).every((r) => r.idempotencyKey),
    "each call keyed: a retried whole gets the first answers",
  );
  assert.equal(invoice.amount_due, 4);
  assert.equal(form("/v1/billing/meter_events").length, 0);
  assert.equal(
    (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body.overageRevenue,
    4,
  );
});

Deno.test("[e2e] sandbox: an invoice of its own is charged once per key; the failing test card leaves it open", async () => {
  const t = await subscribed("eve");
  try {
    const acct = { accountId: null, mode: "test" as const };
    const bill = (idempotencyKey: string, paymentMethod: string | null) =>
      t.app.services.payments.invoiceOnce(acct, {
        customer: "cus_eve",
        amount: 250,
        currency: "usd",
        description: "pro: 120 calls past the limit",
        paymentMethod,
        metadata: { dream_pk: t.pk },
        idempotencyKey,
      });
    const first = await bill("k1", null);
    assert.deepEqual(await bill("k1", null), first, "a retry gets the first invoice");
    await bill("k2", "pm_card_chargeCustomerFail");
    const invoices = await sandboxObjects<SandboxInvoice & { id: string }>(t.app.kv, "invoice");
    assert.deepEqual(
      invoices.map((i) => [i.id === first.id, i.status, i.amount_paid]).sort(),
      [[false, "open", 0], [true, "paid", 250]],
    );
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] sandbox: an invoice of its own whose event the webhook route refused: charged once, the event delivered later", async () => {
  const t = await subscribed("fay");
  try {
    const sandbox = t.app.services.sandbox!;
    const delivered: string[] = [];
    let down = true; // the receiver refuses the first delivery, as a webhook route can
    sandbox.attach((payload) => {
      if (down) {
        down = false;
        return Promise.reject(new Error("receiver down"));
      }
      delivered.push(JSON.parse(payload).type);
      return Promise.resolve();
    });
    const bill = () =>
      t.app.services.payments.invoiceOnce({ accountId: null, mode: "test" }, {
        customer: "cus_fay",
        amount: 300,
        currency: "usd",
        description: "pro: 130 calls past the limit",
        paymentMethod: null,
        metadata: { dream_pk: t.pk },
        idempotencyKey: "k-fay",
      });
    const first = await bill(); // the provider call stands whatever the route did with its event
    assert.deepEqual(await bill(), first, "a retry gets the first invoice");
    const invoices = (await sandboxObjects<SandboxInvoice & { id: string; customer: string }>(
      t.app.kv,
      "invoice",
    )).filter((i) => i.customer === "cus_fay");
    assert.deepEqual(invoices.map((i) => [i.id, i.status, i.amount_paid]), [[
      first.id,
      "paid",
      300,
    ]]);
    assert.deepEqual(delivered, [], "nothing delivered yet, and no second event");
    t.app.clock.advance(1500);
    await sandbox.tick();
    assert.deepEqual(delivered, ["invoice.paid"], "the clock sends the kept event again");
    t.app.clock.advance(60_000);
    await sandbox.tick();
    assert.deepEqual(delivered, ["invoice.paid"], "once taken, never again");
  } finally {
    await t.close();
  }
});

Deno.test("[e2e] Stripe (double, real SDK): one meter per project, also once its creation call's record has expired", async () => {
  await using t = await withDouble();
  const { double, app, dev, pk } = t;
  const { providerCallKeys } = await import("@/lib/kv/provider_calls.ts");
  // the creation call's record lasts a day (Stripe keeps idempotency keys 24 h): gone here
  await app.kv.delete(providerCallKeys.byScope(`meter:${pk}`));
  const more = await app.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "team", price: 4900, limit: 500, overage: { unitAmount: 1, per: 100 } },
  });
  assert.equal(more.status, 201, more.text);
  assert.equal(double.requests.filter((r) => r.path === "/v1/billing/meters").length, 1);
  const meters = double.requests.filter((r) => r.path === "/v1/prices").map((r) =>
    new URLSearchParams(r.raw)
  ).filter((f) => f.get("recurring[usage_type]") === "metered").map((f) =>
    f.get("recurring[meter]")
  );
  assert.equal(meters.length, 2);
  assert.equal(meters[0], meters[1], "both metered prices on the project's one meter");
});

Deno.test("[e2e] Stripe (double): an event about a subscription that ended over a week ago bills nothing", async () => {
  await using t = await withDouble();
  const { clock, double, srv, sk, account } = t;
  await buyProAtDouble(t, "old");
  await calls({ srv, sk }, "old", 60);
  await srv.call("POST", "/api/subscription/cancel", { key: sk, headers: { "X-User-Id": "old" } });
  const sub = (await srv.call("GET", "/api/customers/old", { key: sk })).body.customer.subscription;
  clock.advance(31 * 86_400_000);
  const ended = double.endPeriod(account, sub.id);
  clock.advance(8 * 86_400_000); // delivered late
  assert.deepEqual(await deliverEvents(srv, double, [ended]), ["applied"]);
  assert.equal(double.requests.filter((r) => r.path.startsWith("/v1/invoice")).length, 0);
});

Deno.test("[e2e] Stripe (double): a customer deletion that fails at the provider leaves the period billable", async () => {
  await using t = await withDouble();
  const { double, srv, dev, sk, pk, account } = t;
  await buyProAtDouble(t, "zed");
  await calls({ srv, sk }, "zed", 60);
  const sub = (await srv.call("GET", "/api/customers/zed", { key: sk })).body.customer.subscription;
  double.outages.set(`/v1/subscriptions/${sub.id}`, 3);
  const del = await srv.call("DELETE", `/v1/projects/${pk}/customers/zed`, { key: dev.dat });
  assert.ok(del.status >= 500, `${del.status} ${del.text}`);
  double.outages.clear();
  // the customer stays, and so does what they owe: the renewal reports the period's overage
  assert.equal((await srv.call("GET", "/api/customers/zed", { key: sk })).status, 200);
  assert.deepEqual(
    await deliverEvents(srv, double, [double.invoiceCreated(account, sub.id)]),
    ["applied"],
  );
  const reports = double.requests.filter((r) => r.path === "/v1/billing/meter_events");
  assert.equal(new URLSearchParams(reports[0]!.raw).get("payload[value]"), "10");
});

Deno.test("[e2e] a subscription that ends in its trial bills no overage (a trial's usage is not billed)", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, {
    tiers: [TIERS[0], { ...TIERS[1], trialDays: 14 }],
  });
  await subscribe(app, sk, "tri");
  await calls({ srv, sk }, "tri", 60);
  const cancel = await srv.call("POST", `/v1/projects/${pk}/customers/tri/subscription/cancel`, {
    key: dev.dat,
    body: {},
  });
  assert.equal(cancel.status, 200, cancel.text);
  assert.deepEqual(await sandboxObjects(app.kv, "invoice"), []);
  const m = (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  assert.equal(m.overageRevenue, 0);
});

Deno.test("[e2e] Stripe (double): switching tiers moves the subscription's overage price with it", async () => {
  await using t = await connectedProject({
    tiers: [
      ...TIERS,
      { name: "team", price: 4900, limit: 500, overage: { unitAmount: 1, per: 10 } },
      { name: "flat", price: 2900, limit: 200 },
    ],
  });
  const { double, srv, sk, pk, account, app } = t;
  await buyProAtDouble(t, "uma");
  const tiers = async () =>
    Object.fromEntries((await getProject(app.kv, pk))!.tiers.map((x) => [x.name, x]));
  const items = async () => {
    const id = (await srv.call("GET", "/api/customers/uma", { key: sk })).body.customer
      .subscription.id;
    const sub = double.find(account, id) as unknown as {
      items: { data: { price: { id: string } }[] };
    };
    return sub.items.data.map((i) => i.price.id).sort();
  };
  const by = await tiers();
  assert.deepEqual(await items(), [by.pro!.priceId, by.pro!.overagePriceId].sort());
  const switchTo = async (tier: string) => {
    const res = await createCheckout(srv, { sk, user: "uma", tier });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.switched, true);
  };
  await switchTo("team");
  assert.deepEqual(
    await items(),
    [by.team!.priceId, by.team!.overagePriceId].sort(),
    "team's overage price, not pro's",
  );
  await switchTo("flat");
  assert.deepEqual(await items(), [by.flat!.priceId], "no overage item on a tier without overage");
  await switchTo("pro");
  assert.deepEqual(await items(), [by.pro!.priceId, by.pro!.overagePriceId].sort());
});

Deno.test("[e2e] sandbox: switching tiers (API or portal) moves the subscription's overage price with it", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, {
    tiers: [
      ...TIERS,
      { name: "team", price: 4900, limit: 500, overage: { unitAmount: 1, per: 10 } },
      { name: "flat", price: 2900, limit: 200 },
    ],
  });
  await buyPro(srv, sk, "vic");
  const by = Object.fromEntries((await getProject(app.kv, pk))!.tiers.map((x) => [x.name, x]));
  const items = async () => {
    const id = (await srv.call("GET", "/api/customers/vic", { key: sk })).body.customer
      .subscription.id;
    const sub = (await app.kv.get<{ items: { data: { price: { id: string } }[] } }>([
      "sandbox",
      "subscription",
      id,
    ])).value!;
    return sub.items.data.map((i) => i.price.id).sort();
  };
  assert.deepEqual(await items(), [by.pro!.priceId, by.pro!.overagePriceId].sort());
  const viaApi = await createCheckout(srv, { sk, user: "vic", tier: "team" });
  assert.equal(viaApi.body.switched, true, viaApi.text);
  assert.deepEqual(await items(), [by.team!.priceId, by.team!.overagePriceId].sort());
  const portal = await srv.call("POST", "/api/customer-portal", {
    key: sk,
    headers: { "X-User-Id": "vic" },
    body: { returnUrl: "https://a.example/back" },
  });
  const path = new URL(portal.body.url).pathname;
  assert.equal((await srv.call("POST", `${path}/switch`, { body: { tier: "flat" } })).status, 200);
  assert.deepEqual(await items(), [by.flat!.priceId]);
  assert.equal((await srv.call("POST", `${path}/switch`, { body: { tier: "pro" } })).status, 200);
  assert.deepEqual(await items(), [by.pro!.priceId, by.pro!.overagePriceId].sort());
});
