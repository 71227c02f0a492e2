/** [e2e] what the API answers when Stripe is down or refuses a call (the real SDK, the double). */
import assert from "node:assert/strict";
import { connectedProject } from "@/tests/stripe_double.ts";

const TIERS = [{ name: "free", price: 0, limit: 3 }, { name: "pro", price: 1900, limit: 100 }];
const BODY = { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };

Deno.test("[e2e] Stripe down is a 503 to retry, a Stripe refusal a 502 with its reason; neither changes anything", async () => {
  await using t = await connectedProject({ tiers: TIERS });
  const { double, app, srv, sk, account } = t;
  const h = { "X-User-Id": "kim" };
  const checkout = () =>
    srv.call("POST", "/api/create-checkout", { key: sk, headers: h, body: BODY });

  // the SDK retries a 500 twice: three make the call fail
  double.outages.set("/v1/checkout/sessions", 3);
  const down = await checkout();
  assert.equal(down.status, 503, down.text);
  assert.equal(down.body.error.code, "service_unavailable");
  assert.match(down.body.error.message, /payment provider is not answering/);
  assert.equal(down.headers.get("retry-after"), "2");
  assert.ok(down.headers.get("x-request-id"));

  const reason =
    "Your destination account needs to have at least one of the following capabilities enabled: card_payments";
  double.refusals.set("/v1/checkout/sessions", {
    status: 400,
    type: "invalid_request_error",
    code: "account_invalid",
    message: reason,
  });
  const refused = await checkout();
  assert.equal(refused.status, 502, refused.text);
  assert.equal(refused.body.error.code, "payment_provider_error");
  assert.equal(refused.body.error.message, `The payment provider refused: ${reason}`);
  assert.deepEqual(refused.body.error.provider, {
    type: "invalid_request_error",
    code: "account_invalid",
    param: null,
  });

  // our own key refused is our configuration: a 500 that says nothing of the key
  double.refusals.set("/v1/checkout/sessions", {
    status: 401,
    type: "invalid_request_error",
    code: "api_key_invalid",
    message: "Invalid API Key provided: sk_test_****cdef",
  });
  const badKey = await checkout();
  assert.equal(badKey.status, 500);
  assert.equal(badKey.body.error.code, "internal_error");
  assert.doesNotMatch(badKey.text, /sk_test/);

  // the provider's lock on a request with the same idempotency key: a conflict to retry
  double.refusals.set("/v1/checkout/sessions", {
    status: 409,
    type: "idempotency_error",
    code: "idempotency_key_in_use",
    message: "There is currently another in-progress request using this Idempotent Key.",
    times: 3, // the SDK retries a 409 twice
  });
  const busy = await checkout();
  assert.equal(busy.status, 409, busy.text);
  assert.equal(busy.body.error.code, "conflict");

  // none of them left a session, and each was logged for the operator
  assert.equal(double.all(account, "cs_").length, 0);
  const warned = app.logs.lines.filter((l) => l.msg === "payment provider call failed");
  assert.deepEqual(warned.map((l) => l.fields?.answered), [503, 502, 409]);
  const ok = await checkout();
  assert.equal(ok.status, 200, ok.text);
  assert.equal(double.all(account, "cs_").length, 1);
});

Deno.test("[e2e] an event Stripe delivers while its API is down is answered 503, and applied on redelivery", async () => {
  await using t = await connectedProject({ tiers: TIERS });
  const { double, srv, sk, account } = t;
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": "lou" },
    body: BODY,
  });
  const [created] = double.pay(account, co.body.sessionId);
  const subId = (created!.data as { object: { id: string } }).object.id;
  const { payload, signature } = await double.sign(created!);
  const post = () =>
    srv.call("POST", "/webhook/stripe", {
      raw: payload,
      headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
    });
  double.outages.set(`/v1/subscriptions/${subId}`, 3);
  const first = await post();
  assert.equal(first.status, 503, first.text);
  const plan = async () =>
    (await srv.call("GET", "/api/customers/lou", { key: sk })).body.customer.plan;
  assert.equal(await plan(), "free");
  const again = await post();
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.outcome, "applied");
  assert.equal(await plan(), "pro");
});
