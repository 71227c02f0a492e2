/** The operator's own platform-plan prices: the only prices whose events may change a plan. */
export interface PlatformPrice {
  amount: number;
  currency: string;
  createdAt: number;
}

export const platformPriceKeys = {
  byId: (priceId: string) => ["platform_prices", priceId] as const,
};

/** Records a price made on the platform's own account for the platform plan (kept for good). */
export async function rememberPlatformPrice(
  kv: Deno.Kv,
  priceId: string,
  p: PlatformPrice,
): Promise<void> {
  await kv.set(platformPriceKeys.byId(priceId), p);
}

export async function isPlatformPrice(kv: Deno.Kv, priceId: string): Promise<boolean> {
  return (await kv.get(platformPriceKeys.byId(priceId))).versionstamp !== null;
}
