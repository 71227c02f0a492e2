import assert from "node:assert/strict";
import { returnUrls } from "@/lib/billing/return_urls.ts";
import { ValidationError } from "@/lib/errors.ts";

Deno.test("returnUrls: given URLs are kept, missing ones are the original dream-api's pages on the caller's origin", () => {
  assert.deepEqual(returnUrls("subscription", {}, "https://app.example"), {
    successUrl: "https://app.example/dashboard?success=true",
    cancelUrl: "https://app.example/dashboard?canceled=true",
  });
  assert.deepEqual(
    returnUrls("cart", { successUrl: "https://shop.example/thanks" }, "https://app.example"),
    {
      successUrl: "https://shop.example/thanks",
      cancelUrl: "https://app.example/cart?canceled=true",
    },
  );
  assert.deepEqual(returnUrls("portal", {}, "http://localhost:5173"), {
    returnUrl: "http://localhost:5173/dashboard",
  });
  // nothing missing: no origin needed
  assert.deepEqual(returnUrls("portal", { returnUrl: "https://a.example/b" }, null), {
    returnUrl: "https://a.example/b",
  });
});

Deno.test("returnUrls: without an origin a missing URL is a validation error naming each field", () => {
  assert.throws(
    () => returnUrls("subscription", { successUrl: "https://a.example/ok" }, null),
    (e) =>
      e instanceof ValidationError && e.status === 422 && /cancelUrl/.test(e.message) &&
      !/successUrl/.test(e.message),
  );
  assert.throws(
    () => returnUrls("cart", {}, null),
    (e) => e instanceof ValidationError && /successUrl, cancelUrl/.test(e.message),
  );
});
