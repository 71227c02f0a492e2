import assert from "node:assert/strict";
import { couponOf, couponTerms, discountedMonthly, sameCoupon } from "@/lib/catalog/coupons.ts";
import type { Coupon, Project } from "@/lib/kv/projects.ts";

const half: Coupon = {
  code: "HALF",
  percentOff: 50,
  amountOff: null,
  duration: "forever",
  durationInMonths: null,
  maxRedemptions: null,
  expiresAt: null,
  createdAt: "2026-12-01T00:00:00.000Z",
  providerCouponId: "co_1",
  providerPromotionCodeId: "promo_1",
};
const project = (coupons: Coupon[]) => ({ coupons }) as unknown as Project;

Deno.test("couponOf() takes the terms the checkout recorded, else the project's code of that name", () => {
  const sold = { dream_coupon: "HALF", dream_coupon_terms: couponTerms(half) };
  const remade: Coupon = { ...half, percentOff: null, amountOff: 100, duration: "once" };
  const now = (p: Project) =>
    discountedMonthly(couponOf(p, sold), { monthly: 1900, startedAt: 0, now: 0 });
  // deleted since, or made again with other terms: what it was sold with
  assert.equal(now(project([])), 950);
  assert.equal(now(project([{ ...remade, providerPromotionCodeId: "promo_2" }])), 950);
  // a checkout from before the terms were recorded, or terms edited at the provider: by name
  assert.equal(couponOf(project([remade]), { dream_coupon: "half" })?.amountOff, 100);
  assert.equal(
    couponOf(project([remade]), { dream_coupon: "HALF", dream_coupon_terms: "{not json" })
      ?.amountOff,
    100,
  );
  assert.equal(
    couponOf(project([]), { dream_coupon: "HALF", dream_coupon_terms: '{"percentOff":500}' }),
    null,
  );
  assert.equal(couponOf(project([half]), {}), null);
});

Deno.test("sameCoupon(): a redemption counts for the code the checkout was opened with only", () => {
  const sold = { dream_coupon: "HALF", dream_coupon_terms: couponTerms(half) };
  assert.equal(sameCoupon(project([half]), sold), true);
  assert.equal(sameCoupon(project([]), sold), false, "deleted since");
  assert.equal(
    sameCoupon(project([{ ...half, providerPromotionCodeId: "promo_2" }]), sold),
    false,
    "deleted and made again",
  );
  assert.equal(sameCoupon(project([half]), { dream_coupon: "HALF" }), true, "older checkouts");
});
