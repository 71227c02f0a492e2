/** The operator's own platform-plan prices: the only prices whose events may change a plan. */
export interface PlatformPrice {
  amount: number;
  currency: string;
  createdAt: number;
}

export const platformPriceKeys = {
  byId: (priceId: string) => ["platform_prices", priceId] as const,
  /** The price in use for an amount and currency (a changed amount makes another). */
  current: (amount: number, currency: string) => ["platform_price_for", amount, currency] as const,
  /** The platform plan's Product. */
  product: () => ["platform_product"] as const,
};

/**
 * Records a price made on the platform's own account for the platform plan (kept for good), as
 * the one in use for its amount and currency.
 */
export async function rememberPlatformPrice(
  kv: Deno.Kv,
  priceId: string,
  p: PlatformPrice,
): Promise<void> {
  await kv.atomic()
    .set(platformPriceKeys.byId(priceId), p)
    .set(platformPriceKeys.current(p.amount, p.currency), priceId)
    .commit();
}

/** The price in use for the platform plan at this amount and currency, if one was made. */
export async function platformPriceFor(
  kv: Deno.Kv,
  amount: number,
  currency: string,
): Promise<string | null> {
  return (await kv.get<string>(platformPriceKeys.current(amount, currency))).value;
}

/** The platform plan's Product, once made. */
export async function platformProduct(kv: Deno.Kv): Promise<string | null> {
  return (await kv.get<string>(platformPriceKeys.product())).value;
}

export async function rememberPlatformProduct(kv: Deno.Kv, productId: string): Promise<void> {
  await kv.set(platformPriceKeys.product(), productId);
}

export async function isPlatformPrice(kv: Deno.Kv, priceId: string): Promise<boolean> {
  return (await kv.get(platformPriceKeys.byId(priceId))).versionstamp !== null;
}
