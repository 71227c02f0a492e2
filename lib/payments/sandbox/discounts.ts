/**
 * Coupons and promotion codes in the sandbox, shaped like Stripe's, and what they take off a
 * checkout: percent or amount off the first payment's total (never below 0).
 */
import type { AccountRef, PromotionCodeRequest } from "@/lib/payments/provider.ts";
import type { SandboxStore } from "@/lib/kv/sandbox.ts";
import { stripeShape } from "@/lib/payments/fixtures.ts";
import { newId, type SandboxSession, sec } from "@/lib/payments/sandbox/objects.ts";
import { ValidationError } from "@/lib/errors.ts";

interface SandboxCoupon {
  id: string;
  percent_off: number | null;
  amount_off: number | null;
  currency: string | null;
  duration: string;
}
interface SandboxPromotionCode {
  id: string;
  code: string;
  active: boolean;
  coupon: string;
}

export function createPromotionCode(
  store: SandboxStore,
  acct: AccountRef,
  o: PromotionCodeRequest & { now: number },
): Promise<{ couponId: string; promotionCodeId: string }> {
  return store.once(o.idempotencyKey, () => {
    const couponId = newId("co");
    const promoId = newId("promo");
    const coupon = stripeShape("coupon", {
      id: couponId,
      percent_off: o.percentOff,
      amount_off: o.amountOff,
      currency: o.amountOff !== null ? o.currency : null,
      duration: o.duration,
      duration_in_months: o.durationInMonths,
      max_redemptions: o.maxRedemptions,
      redeem_by: o.expiresAt,
      name: o.code,
      created: sec(o.now),
      livemode: acct.mode === "live",
    });
    const promo = stripeShape("promotion_code", {
      id: promoId,
      code: o.code,
      active: true,
      coupon: couponId,
      promotion: { type: "coupon", coupon: couponId },
      expires_at: o.expiresAt,
      max_redemptions: o.maxRedemptions,
      created: sec(o.now),
    });
    return {
      id: `${couponId} ${promoId}`,
      objects: [
        { kind: "coupon" as const, id: couponId, value: coupon },
        { kind: "promotion_code" as const, id: promoId, value: promo },
      ],
    };
  }).then((m) => {
    const [couponId, promotionCodeId] = m.id.split(" ") as [string, string];
    return { couponId, promotionCodeId };
  });
}

export async function deactivatePromotionCode(store: SandboxStore, id: string): Promise<void> {
  const promo = await store.get<SandboxPromotionCode>("promotion_code", id);
  await store.put("promotion_code", id, { ...promo, active: false });
}

/** A session with the promotion code applied: its discount recorded and its total lowered. */
export async function withDiscount(
  store: SandboxStore,
  session: SandboxSession,
  promotionCode: string,
): Promise<SandboxSession> {
  const promo = await store.get<SandboxPromotionCode>("promotion_code", promotionCode);
  if (!promo.active) throw new ValidationError(`Promotion code ${promo.code} is not active`);
  const coupon = await store.get<SandboxCoupon>("coupon", promo.coupon);
  const total = session.amount_total ?? 0;
  const off = coupon.percent_off !== null
    ? Math.round((total * coupon.percent_off) / 100)
    : Math.min(total, coupon.amount_off ?? 0);
  return {
    ...session,
    amount_total: total - off,
    total_details: { amount_discount: off, amount_shipping: 0, amount_tax: 0 },
    discounts: [{ coupon: coupon.id, promotion_code: promo.id }],
  } as SandboxSession;
}
