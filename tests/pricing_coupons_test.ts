/** [e2e] Promotion codes: created, redeemed at checkout, counted, refused when expired or used up. */
import assert from "node:assert/strict";
import {
  createCheckout,
  developer,
  ORIGIN,
  project,
  servePort,
  testApp,
  TestClock,
} from "@/tests/helpers.ts";
import {
  connectToDouble,
  deliverEvents,
  stripeConfigFor,
  StripeDouble,
} from "@/tests/stripe_double.ts";

const TIERS = [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }];
const DAY = 86_400_000;

Deno.test("[e2e] promotion codes in the sandbox: discounted MRR, counted redemptions, used-up and expired codes refused", async (t) => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const coupon = (body: unknown) =>
    srv.call("POST", `/v1/projects/${pk}/coupons`, { key: dev.dat, body });
  const checkout = (user: string, promotionCode?: string) =>
    createCheckout(srv, { sk, user, more: promotionCode ? { promotionCode } : {} });
  const metrics = async () =>
    (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  const pay = async (url: string, form?: Record<string, string>) => {
    const path = new URL(url).pathname;
    if (form) {
      return await fetch(`${srv.base}${path}/complete`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: ORIGIN },
        body: new URLSearchParams(form),
        redirect: "manual",
      });
    }
    return await srv.call("POST", `${path}/complete`, { body: {} });
  };

  await t.step("create: rules checked, codes unique and case-insensitive", async () => {
    assert.equal((await coupon({ code: "X1", percentOff: 10, duration: "once" })).status, 422);
    assert.equal(
      (await coupon({ code: "BOTH", percentOff: 10, amountOff: 100, duration: "once" })).status,
      422,
    );
    assert.equal(
      (await coupon({ code: "REP", percentOff: 10, duration: "repeating" })).status,
      422,
    );
    const made = await coupon({
      code: "launch20",
      percentOff: 20,
      duration: "forever",
      maxRedemptions: 1,
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.body.coupon.code, "LAUNCH20");
    assert.equal((await coupon({ code: "Launch20", percentOff: 5, duration: "once" })).status, 409);
    assert.equal(
      (await coupon({
        code: "SOON",
        amountOff: 500,
        duration: "once",
        expiresAt: new Date(app.clock.now() + DAY).toISOString(),
      })).status,
      201,
    );
    assert.equal((await coupon({ code: "TENOFF", amountOff: 1000, duration: "once" })).status, 201);
  });

  await t.step("a code at checkout: the discount shows and MRR counts what is paid", async () => {
    assert.equal((await checkout("u0", "NOPE")).status, 422);
    const co = await checkout("u1", "launch20");
    assert.equal(co.status, 200, co.text);
    const page = await srv.call("GET", new URL(co.body.url).pathname, {
      headers: { Accept: "text/html" },
    });
    assert.match(page.text, /Discount: −\$3\.80/);
    assert.match(page.text, /Total: <strong>\$15\.20/);
    assert.equal((await pay(co.body.url)).status, 200);
    const m = await metrics();
    assert.equal(m.mrr, 1520);
    const list = await srv.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat });
    const launch = list.body.coupons.find((c: { code: string }) => c.code === "LAUNCH20");
    assert.equal(launch.redemptions, 1);
  });

  await t.step("used up and expired codes are 422, naming why", async () => {
    const used = await checkout("u2", "LAUNCH20");
    assert.equal(used.status, 422);
    assert.match(used.body.error.message, /used up/);
    assert.equal(used.body.error.details[0].field, "promotionCode");
    app.clock.advance(2 * DAY);
    const expired = await checkout("u2", "SOON");
    assert.equal(expired.status, 422);
    assert.match(expired.body.error.message, /has expired/);
  });

  await t.step(
    "a code typed on the sandbox checkout page; a bad one shows the page again",
    async () => {
      const co = await checkout("u3");
      const bad = await pay(co.body.url, { email: "u3@example.com", promotionCode: "LAUNCH20" });
      assert.equal(bad.status, 422);
      assert.match(await (bad as Response).text(), /used up/);
      const ok = await pay(co.body.url, { email: "u3@example.com", promotionCode: "tenoff" });
      await (ok as Response).body?.cancel();
      assert.equal(ok.status, 303);
      // "once": the first invoice only, so MRR counts the full price for this one
      assert.equal((await metrics()).mrr, 1520 + 1900);
      const list = await srv.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat });
      assert.equal(
        list.body.coupons.find((c: { code: string }) => c.code === "TENOFF").redemptions,
        1,
      );
    },
  );

  await t.step(
    "a one-use code on two open checkouts: only the first payment redeems it",
    async () => {
      assert.equal(
        (await coupon({ code: "SOLO", percentOff: 50, duration: "forever", maxRedemptions: 1 }))
          .status,
        201,
      );
      const a = await checkout("u5", "SOLO");
      const b = await checkout("u6", "SOLO");
      assert.equal(a.status, 200, a.text);
      assert.equal(b.status, 200, b.text);
      const before = (await metrics()).mrr;
      const paid = await Promise.all([pay(a.body.url), pay(b.body.url)]);
      const statuses = paid.map((r) => r.status).sort();
      assert.deepEqual(statuses, [200, 409], JSON.stringify(paid.map((r) => r.status)));
      assert.match((paid.find((r) => r.status === 409) as { text: string }).text, /used up/);
      assert.equal((await metrics()).mrr, before + 950, "one customer at half price, none more");
      const list = await srv.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat });
      assert.equal(
        list.body.coupons.find((c: { code: string }) => c.code === "SOLO").redemptions,
        1,
      );
    },
  );

  await t.step("delete: later checkouts refuse it; audited", async () => {
    const del = await srv.call("DELETE", `/v1/projects/${pk}/coupons/tenoff`, { key: dev.dat });
    assert.equal(del.status, 200, del.text);
    assert.equal((await checkout("u4", "TENOFF")).status, 422);
    const events = await srv.call("GET", `/v1/projects/${pk}/events?type=coupon.deleted`, {
      key: dev.dat,
    });
    assert.equal(events.body.events.length, 1);
  });

  await t.step(
    "a code deleted and made again while a checkout with it is open: the subscription keeps what it was sold with, the new code counts nothing",
    async () => {
      assert.equal(
        (await coupon({ code: "HALF", percentOff: 50, duration: "forever" })).status,
        201,
      );
      const co = await checkout("u7", "HALF");
      assert.equal(co.status, 200, co.text);
      const del = await srv.call("DELETE", `/v1/projects/${pk}/coupons/HALF`, { key: dev.dat });
      assert.equal(del.status, 200, del.text);
      assert.equal(
        (await coupon({ code: "HALF", amountOff: 100, duration: "once" })).status,
        201,
      );
      const before = (await metrics()).mrr;
      assert.equal((await pay(co.body.url)).status, 200);
      assert.equal((await metrics()).mrr, before + 950, "half price, forever, as it was sold");
      const list = await srv.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat });
      assert.equal(
        list.body.coupons.find((c: { code: string }) => c.code === "HALF").redemptions,
        0,
        "the code made again was not redeemed",
      );
    },
  );
});

Deno.test("[e2e] Stripe (double): a code is a coupon and a promotion code on the connected account; checkout sends it", async () => {
  const clock = new TestClock();
  await using double = new StripeDouble(clock.now).start();
  await using app = await testApp({ clock, config: stripeConfigFor(double) });
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: TIERS });
  const account = await connectToDouble(srv, dev.dat, double);
  const made = await srv.call("POST", `/v1/projects/${pk}/coupons`, {
    key: dev.dat,
    body: { code: "HALF", percentOff: 50, duration: "repeating", durationInMonths: 3 },
  });
  assert.equal(made.status, 201, made.text);
  const couponReq = double.requests.find((r) => r.path === "/v1/coupons")!;
  assert.equal(couponReq.account, account);
  const sent = new URLSearchParams(couponReq.raw);
  assert.deepEqual(
    [sent.get("percent_off"), sent.get("duration"), sent.get("duration_in_months")],
    [
      "50",
      "repeating",
      "3",
    ],
  );
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "max" },
    body: {
      tier: "pro",
      successUrl: "https://a.example/ok",
      cancelUrl: "https://a.example/no",
      promotionCode: "half",
    },
  });
  assert.equal(co.status, 200, co.text);
  const session = double.find(account, co.body.sessionId)!;
  assert.equal(session.amount_total, 950);
  const form = new URLSearchParams(
    double.requests.find((r) => r.path === "/v1/checkout/sessions")!.raw,
  );
  assert.match(form.get("discounts[0][promotion_code]") ?? "", /^promo_/);
  await deliverEvents(srv, double, double.pay(account, co.body.sessionId));
  const m = (await srv.call("GET", `/v1/projects/${pk}/dashboard`, { key: dev.dat })).body;
  assert.equal(m.mrr, 950, "repeating: discounted for its months");
  const list = await srv.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat });
  assert.equal(list.body.coupons[0].redemptions, 1);
});
