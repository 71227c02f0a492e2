/**
 * Promotion-code redemptions: one KvU64 per code, moved once per paid checkout (the claim of
 * the checkout session makes a redelivered event count nothing). The codes themselves live in
 * the project record (`Project.coupons`): a handful per project, read with it.
 */
import { projectStatKeys } from "@/lib/kv/project_stats.ts";

export const couponKeys = {
  redemptions: (pk: string, code: string) => [...projectStatKeys.coupons(pk), code] as const,
  /** One per checkout session that redeemed a code. */
  redeemed: (pk: string, sessionId: string) => ["coupon_redeemed", pk, sessionId] as const,
};

/** Counts one redemption of `code` for a checkout session, once; false when counted before. */
export async function countRedemption(
  kv: Deno.Kv,
  pk: string,
  o: { code: string; sessionId: string },
): Promise<boolean> {
  const res = await kv.atomic()
    .check({ key: couponKeys.redeemed(pk, o.sessionId), versionstamp: null })
    .set(couponKeys.redeemed(pk, o.sessionId), o.code)
    .sum(couponKeys.redemptions(pk, o.code), 1n)
    .commit();
  return res.ok;
}

/** How often each code was redeemed. */
export async function redemptions(kv: Deno.Kv, pk: string, codes: string[]) {
  const out = new Map<string, number>();
  for (let i = 0; i < codes.length; i += 10) {
    const part = codes.slice(i, i + 10);
    const got = await kv.getMany<Deno.KvU64[]>(part.map((c) => couponKeys.redemptions(pk, c)));
    part.forEach((c, j) => out.set(c, Number(got[j]!.value?.value ?? 0n)));
  }
  return out;
}

/** Forgets a deleted code's count (a code made again later starts from zero). */
export async function dropRedemptions(kv: Deno.Kv, pk: string, code: string): Promise<void> {
  await kv.delete(couponKeys.redemptions(pk, code));
}
