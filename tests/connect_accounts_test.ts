/** [e2e] connecting again, and Stripe telling us an account left the platform (the double). */
import assert from "node:assert/strict";
import { connectedProject, connectToDouble, deliverEvents } from "@/tests/stripe_double.ts";
import { createCheckout } from "@/tests/helpers.ts";
import { developerKeys } from "@/lib/kv/developers.ts";

const TIERS = [
  { name: "free", price: 0, limit: 3 },
  { name: "pro", price: 1900, limit: 100, overage: { unitAmount: 5, per: 1 } },
];
const DAY = 86_400_000;

Deno.test("[e2e] an account that leaves is disconnected; the account connected next gets the catalog and codes", async (t) => {
  await using setup = await connectedProject({ tiers: TIERS });
  const { clock, double, app, srv, dev, pk, sk, account: first } = setup;
  const checkout = (user: string, promotionCode?: string) =>
    createCheckout(srv, { sk, user, more: promotionCode ? { promotionCode } : {} });
  const connection = async () =>
    (await srv.call("GET", "/v1/me", { key: dev.dat })).body.developer.paymentConnection?.test ??
      null;
  const code = await srv.call("POST", `/v1/projects/${pk}/coupons`, {
    key: dev.dat,
    body: { code: "SAVE10", percentOff: 10, duration: "once" },
  });
  assert.equal(code.status, 201, code.text);
  const paid = await checkout("ann", "SAVE10");
  assert.equal(paid.status, 200);
  await deliverEvents(srv, double, double.pay(first, paid.body.sessionId));
  const madeOnFirst = ["prod_", "price_", "promo_"].map((k) => double.all(first, k).length);

  await t.step("connecting again days later goes on with the same account", async () => {
    clock.advance(2 * DAY); // past Stripe's 24 h idempotency window
    assert.equal(await connectToDouble(srv, dev.dat, double), first);
    assert.equal((await connection()).accountId, first);
    assert.equal((await checkout("bea")).status, 200);
  });

  const deauthorized = double.deauthorize(first);
  await t.step("the account leaves: disconnected, checkouts ask to connect again", async () => {
    // an account connected before the index by account existed is found all the same
    await app.kv.delete(developerKeys.byAccount("test", first));
    assert.deepEqual(await deliverEvents(srv, double, [deauthorized]), ["applied"]);
    assert.deepEqual(await deliverEvents(srv, double, [deauthorized]), ["duplicate"]);
    assert.equal(await connection(), null);
    const res = await checkout("cai");
    assert.equal(res.status, 409, res.text);
    assert.match(res.body.error.message, /Connect a Stripe account for test mode/);
    const log = await srv.call("GET", `/v1/projects/${pk}/events`, { key: dev.dat });
    assert.ok(
      log.body.events.some((e: { summary: string }) =>
        e.summary.includes(`${first} was disconnected`) &&
        e.summary.includes("1 paid subscription(s) remain on that account")
      ),
      log.text,
    );
    // customers and their records stay
    assert.equal((await srv.call("GET", "/api/customers/ann", { key: sk })).status, 200);
  });

  await t.step("the next account sells: products, prices and codes are made on it", async () => {
    // Stripe's coupons endpoint is down while connecting: the code is made at its first use
    double.outages.set("/v1/coupons", 3);
    const second = await connectToDouble(srv, dev.dat, double);
    double.outages.clear();
    assert.notEqual(second, first);
    assert.equal(double.all(second, "promo_").length, 0);
    assert.equal((await connection()).accountId, second);
    const res = await checkout("dan", "SAVE10");
    assert.equal(res.status, 200, res.text);
    assert.ok(double.find(second, res.body.sessionId), "the session is on the new account");
    assert.deepEqual(
      ["prod_", "price_", "promo_"].map((k) => double.all(second, k).length),
      madeOnFirst,
    );
    // a late copy of the first account's notice, sent before this connection, changes nothing
    const late = { ...deauthorized, id: "evt_late_copy" };
    assert.deepEqual(await deliverEvents(srv, double, [late]), ["ignored"]);
    assert.equal((await connection()).accountId, second);
  });

  await t.step("an account no developer has is ignored", async () => {
    const stray = double.deauthorize("acct_nobody");
    assert.deepEqual(await deliverEvents(srv, double, [stray]), ["ignored"]);
  });
});

Deno.test("[e2e] a customer deleted in Stripe's dashboard can check out and open the portal again", async () => {
  await using t = await connectedProject({ tiers: TIERS });
  const { double, srv, sk, account } = t;
  const h = { "X-User-Id": "eve" };
  const portal = () =>
    srv.call("POST", "/api/customer-portal", {
      key: sk,
      headers: h,
      body: { returnUrl: "https://a.example/back" },
    });
  const opened = await portal();
  assert.equal(opened.status, 200, opened.text);
  const [gone] = double.all(account, "cus_");
  double.deleteCustomer(account, gone!.id as string);
  const again = await portal();
  assert.equal(again.status, 200, again.text);
  const co = await createCheckout(srv, { sk, user: "eve" });
  assert.equal(co.status, 200, co.text);
  const session = double.find(account, co.body.sessionId)!;
  assert.notEqual(session.customer, gone!.id);
  const events = double.pay(account, co.body.sessionId);
  await deliverEvents(srv, double, events);
  const c = await srv.call("GET", "/api/customers/eve", { key: sk });
  assert.equal(c.body.customer.plan, "pro");
});
