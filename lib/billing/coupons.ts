/**
 * A project's promotion codes: created on the developer's payment account (a coupon and its
 * promotion code), listed with their redemptions, deleted (deactivated at the provider), and
 * checked when a checkout names one.
 */
import type { Services } from "@/lib/services.ts";
import type { Coupon, Project } from "@/lib/kv/projects.ts";
import { updateProject } from "@/lib/kv/projects.ts";
import { countRedemption, dropRedemptions, redemptions } from "@/lib/kv/coupons.ts";
import { onceWithResult } from "@/lib/kv/provider_calls.ts";
import { ulid } from "@/lib/ids.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import { projectCurrency } from "@/lib/catalog/tiers.ts";
import {
  checkRedeemable,
  type CouponInput,
  couponTerms,
  findCoupon,
  MAX_COUPONS,
  publicCoupon,
  sameCoupon,
} from "@/lib/catalog/coupons.ts";

export async function listCoupons(s: Services, p: Project) {
  const coupons = p.coupons ?? [];
  const counts = await redemptions(s.kv, p.pk, coupons.map((c) => c.code));
  return coupons.map((c) => publicCoupon(c, counts.get(c.code) ?? 0));
}

/** A code's terms as the provider takes them. */
function promotionTerms(p: Project, coupon: Coupon) {
  return {
    code: coupon.code,
    percentOff: coupon.percentOff,
    amountOff: coupon.amountOff,
    currency: projectCurrency(p),
    duration: coupon.duration,
    durationInMonths: coupon.durationInMonths,
    maxRedemptions: coupon.maxRedemptions,
    expiresAt: coupon.expiresAt ? Math.floor(Date.parse(coupon.expiresAt) / 1000) : null,
  };
}

const tooMany = () => new ValidationError(`A project has at most ${MAX_COUPONS} promotion codes`);

/** Creates a code (409 when taken): at the provider first, then on the project. */
export async function createCoupon(s: Services, p: Project, input: CouponInput) {
  if (findCoupon(p, input.code)) throw new ConflictError(`Code ${input.code} exists already`);
  if ((p.coupons ?? []).length >= MAX_COUPONS) throw tooMany();
  const now = s.clock.now();
  if (input.expiresAt && Date.parse(input.expiresAt) <= now) {
    throw new ValidationError("expiresAt is in the past", [
      { field: "expiresAt", message: "must be in the future" },
    ]);
  }
  const coupon: Coupon = {
    code: input.code,
    percentOff: input.percentOff ?? null,
    amountOff: input.amountOff ?? null,
    duration: input.duration,
    durationInMonths: input.durationInMonths ?? null,
    maxRedemptions: input.maxRedemptions ?? null,
    expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
    createdAt: new Date(now).toISOString(),
    providerCouponId: null,
    providerPromotionCodeId: null,
  };
  const acct = await accountFor(s, p);
  const made = await onceWithResult(s.kv, {
    // one provider coupon per code made (a code deleted and made again within the same
    // millisecond got the deleted one's, deactivated, back)
    scope: `coupon:${p.pk}:${coupon.code}:${ulid(now)}`,
    now,
    call: (idempotencyKey) =>
      s.payments.createPromotionCode(acct, { ...promotionTerms(p, coupon), idempotencyKey }),
    idOf: (r) => `${r.couponId} ${r.promotionCodeId}`,
  });
  // the ids, from this call or from the one a retry repeats
  const [couponId, promotionCodeId] = made.id.split(" ") as [string, string];
  coupon.providerCouponId = couponId;
  coupon.providerPromotionCodeId = promotionCodeId;
  let next: Project;
  try {
    next = await updateProject(s.kv, p.pk, (cur) => {
      // checked again on the record being written: concurrent creations can't pass either
      if (findCoupon(cur, coupon.code)) {
        throw new ConflictError(`Code ${coupon.code} exists already`);
      }
      if ((cur.coupons ?? []).length >= MAX_COUPONS) throw tooMany();
      return { ...cur, coupons: [...(cur.coupons ?? []), coupon] };
    });
  } catch (err) {
    // the code made at the provider for this request is not kept: it must not be redeemable
    await s.payments.deactivatePromotionCode(acct, promotionCodeId).catch((e) =>
      s.logger.warn("could not deactivate a promotion code", { error: String(e) })
    );
    throw err;
  }
  s.caches.projects.set(p.pk, next);
  return publicCoupon(coupon, 0);
}

/**
 * Makes again, on the account connected now, the codes whose provider ids were forgotten when
 * the account they were made on left (`forgetProviderIds`). Answers the project.
 */
export async function syncCoupons(s: Services, p: Project): Promise<Project> {
  const missing = (p.coupons ?? []).filter((c) => !c.providerPromotionCodeId);
  if (missing.length === 0) return p;
  const acct = await accountFor(s, p);
  let next = p;
  for (const coupon of missing) {
    const made = await onceWithResult(s.kv, {
      scope: `coupon:${acct.accountId}:${p.pk}:${coupon.code}:${coupon.createdAt}`,
      now: s.clock.now(),
      call: (idempotencyKey) =>
        s.payments.createPromotionCode(acct, { ...promotionTerms(p, coupon), idempotencyKey }),
      idOf: (r) => `${r.couponId} ${r.promotionCodeId}`,
    });
    const [couponId, promotionCodeId] = made.id.split(" ") as [string, string];
    next = await updateProject(s.kv, p.pk, (cur) => ({
      ...cur,
      coupons: (cur.coupons ?? []).map((c) =>
        // the same code as it was read (not deleted and made again meanwhile)
        c.code === coupon.code && c.createdAt === coupon.createdAt
          ? { ...c, providerCouponId: couponId, providerPromotionCodeId: promotionCodeId }
          : c
      ),
    }));
  }
  s.caches.projects.set(next.pk, next);
  return next;
}

/** Deletes a code: customers can't use it any more; subscriptions that used it keep theirs. */
export async function deleteCoupon(s: Services, p: Project, code: string) {
  const coupon = findCoupon(p, code);
  if (!coupon) throw new NotFoundError(`No promotion code ${code.toUpperCase()}`);
  if (coupon.providerPromotionCodeId) {
    await s.payments.deactivatePromotionCode(
      await accountFor(s, p),
      coupon.providerPromotionCodeId,
    );
  }
  const next = await updateProject(s.kv, p.pk, (cur) => ({
    ...cur,
    coupons: (cur.coupons ?? []).filter((c) => c.code !== coupon.code),
  }));
  await dropRedemptions(s.kv, p.pk, coupon.code);
  s.caches.projects.set(p.pk, next);
}

/**
 * What a checkout that names `code` sends: the provider's promotion code and the metadata that
 * names it (so the subscription's MRR and the redemption count know it); 422 when unknown,
 * expired or used up.
 */
export async function promotionFor(s: Services, p: Project, code: string) {
  const found = findCoupon(p, code);
  const redeemed = found ? (await redemptions(s.kv, p.pk, [found.code])).get(found.code)! : 0;
  const coupon = checkRedeemable(found, { code, now: s.clock.now(), redeemed });
  // made on an account that left (or its making after a new connection failed): made now
  const promotionCode = coupon.providerPromotionCodeId ??
    findCoupon(await syncCoupons(s, p), coupon.code)?.providerPromotionCodeId;
  if (!promotionCode) {
    throw new ConflictError(`Promotion code ${coupon.code} is not on the payment account yet`);
  }
  return {
    promotionCode,
    metadata: { dream_coupon: coupon.code, dream_coupon_terms: couponTerms(coupon) },
  };
}

/**
 * Counts a paid checkout's code once (a redelivered event counts nothing), when the code is
 * still the one the checkout was opened with (not deleted, nor deleted and made again).
 */
export async function redeemed(
  s: Services,
  p: Project,
  o: { metadata: Record<string, string>; sessionId: string },
): Promise<void> {
  if (!sameCoupon(p, o.metadata)) return;
  await countRedemption(s.kv, p.pk, { code: o.metadata.dream_coupon!, sessionId: o.sessionId });
}
