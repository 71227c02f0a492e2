/**
 * Promotion codes: their input rules, whether one can be redeemed now, and what a coupon takes
 * off a subscription's monthly amount (for MRR). Pure: no KV, no provider.
 */
import { z } from "zod";
import type { Coupon, Project } from "@/lib/kv/projects.ts";
import { ValidationError } from "@/lib/errors.ts";

export const MAX_COUPONS = 100;

export const CouponInputSchema = z.object({
  code: z.string().trim().regex(
    /^[A-Za-z0-9_-]{3,40}$/,
    "3 to 40 letters, digits, - or _ (customers type it)",
  ).transform((c) => c.toUpperCase()),
  percentOff: z.number().min(0.01).max(100).optional(),
  amountOff: z.number().int("a whole number of minor units").min(1).max(99_999_999).optional(),
  duration: z.enum(["once", "forever", "repeating"]),
  durationInMonths: z.number().int().min(1).max(36).optional(),
  maxRedemptions: z.number().int().min(1).max(1_000_000).optional(),
  expiresAt: z.iso.datetime({ offset: true }).optional(),
}).strict().superRefine((c, ctx) => {
  if ((c.percentOff === undefined) === (c.amountOff === undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["percentOff"],
      message: "give exactly one of percentOff and amountOff",
    });
  }
  if ((c.duration === "repeating") !== (c.durationInMonths !== undefined)) {
    ctx.addIssue({
      code: "custom",
      path: ["durationInMonths"],
      message: 'durationInMonths goes with duration "repeating" (and only with it)',
    });
  }
});
export type CouponInput = z.infer<typeof CouponInputSchema>;

/** The public shape of a code, with how often it was redeemed. */
export function publicCoupon(c: Coupon, redeemed: number) {
  return {
    code: c.code,
    percentOff: c.percentOff,
    amountOff: c.amountOff,
    duration: c.duration,
    durationInMonths: c.durationInMonths,
    maxRedemptions: c.maxRedemptions,
    expiresAt: c.expiresAt,
    redemptions: redeemed,
    createdAt: c.createdAt,
  };
}

export function findCoupon(p: Project, code: string): Coupon | null {
  const want = code.trim().toUpperCase();
  return (p.coupons ?? []).find((c) => c.code === want) ?? null;
}

/** 422 unless the code can be redeemed now (known, not expired, not used up). */
export function checkRedeemable(
  coupon: Coupon | null,
  o: { code: string; now: number; redeemed: number },
): Coupon {
  const refuse = (why: string) =>
    new ValidationError(`Promotion code ${o.code.toUpperCase()} ${why}`, [
      { field: "promotionCode", message: why },
    ]);
  if (!coupon) throw refuse("is unknown");
  if (coupon.expiresAt && Date.parse(coupon.expiresAt) <= o.now) throw refuse("has expired");
  if (coupon.maxRedemptions !== null && o.redeemed >= coupon.maxRedemptions) {
    throw refuse("is used up");
  }
  return coupon;
}

/** What a discount is, and which coupon it came from: all a subscription's MRR needs of it. */
export type CouponTerms = Pick<
  Coupon,
  "code" | "percentOff" | "amountOff" | "duration" | "durationInMonths" | "providerPromotionCodeId"
>;

const TermsSchema = z.object({
  code: z.string().max(40),
  percentOff: z.number().min(0).max(100).nullable(),
  amountOff: z.number().int().min(0).nullable(),
  duration: z.enum(["once", "forever", "repeating"]),
  durationInMonths: z.number().int().min(1).max(36).nullable(),
  providerPromotionCodeId: z.string().max(255).nullable(),
});

/** A coupon's terms as a checkout's metadata carries them (a few dozen characters of JSON). */
export function couponTerms(c: Coupon): string {
  const { code, percentOff, amountOff, duration, durationInMonths, providerPromotionCodeId } = c;
  return JSON.stringify({
    code,
    percentOff,
    amountOff,
    duration,
    durationInMonths,
    providerPromotionCodeId,
  });
}

/**
 * The discount a subscription was bought with: the terms its checkout recorded (the code may be
 * deleted since, or made again with other terms), else, for checkouts from before the terms were
 * recorded, the project's code of that name.
 */
export function couponOf(
  p: Project,
  metadata: Record<string, string> | null | undefined,
): CouponTerms | null {
  return termsOf(metadata?.dream_coupon_terms) ??
    (metadata?.dream_coupon ? findCoupon(p, metadata.dream_coupon) : null);
}

/** The terms a checkout recorded, or null when it recorded none (or they were edited away). */
function termsOf(raw: string | undefined): CouponTerms | null {
  if (!raw) return null;
  try {
    const got = TermsSchema.safeParse(JSON.parse(raw));
    return got.success ? got.data : null;
  } catch {
    return null; // not JSON: edited at the provider
  }
}

/**
 * Whether a paid checkout's code is the project's code of that name now: a code deleted (or
 * deleted and made again) after the checkout opened counts no redemption of the one there now.
 */
export function sameCoupon(p: Project, metadata: Record<string, string>): boolean {
  const now = metadata.dream_coupon ? findCoupon(p, metadata.dream_coupon) : null;
  if (!now) return false;
  const then = termsOf(metadata.dream_coupon_terms);
  return then === null || then.providerPromotionCodeId === now.providerPromotionCodeId;
}

/**
 * A subscription's monthly amount with its coupon: "forever" always, "repeating" for its months
 * from the subscription's start; "once" discounts one invoice only, so MRR stays whole.
 */
export function discountedMonthly(
  coupon: CouponTerms | null,
  o: { monthly: number; startedAt: number; now: number; intervalMonths?: number },
): number {
  if (!coupon || coupon.duration === "once") return o.monthly;
  if (coupon.duration === "repeating") {
    const end = new Date(o.startedAt);
    end.setUTCMonth(end.getUTCMonth() + (coupon.durationInMonths ?? 0));
    if (o.now >= end.getTime()) return o.monthly;
  }
  const off = coupon.percentOff !== null
    ? Math.round((o.monthly * coupon.percentOff) / 100)
    : Math.round((coupon.amountOff ?? 0) / (o.intervalMonths ?? 1)); // off each invoice
  return Math.max(0, o.monthly - off);
}
