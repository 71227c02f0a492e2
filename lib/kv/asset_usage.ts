/** Bytes of images each developer stores, checked against the upload quota. */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";

export const assetUsageKeys = {
  bytes: (platformId: string) => ["asset_bytes", platformId] as const,
};

/**
 * Adds `delta` bytes to the developer's total when it stays within `quota` (0 = no quota):
 * true when taken, false when it would pass the quota. A negative delta gives bytes back.
 */
export function addAssetBytes(
  kv: Deno.Kv,
  platformId: string,
  delta: number,
  quota: number,
): Promise<boolean> {
  return retryAtomic("count the upload", async () => {
    const cur = await kv.get<number>(assetUsageKeys.bytes(platformId));
    const next = Math.max(0, (cur.value ?? 0) + delta);
    if (delta > 0 && quota > 0 && next > quota) return false;
    return (await kv.atomic().check(cur).set(cur.key, next).commit()).ok ? true : RETRY;
  });
}

export async function assetBytes(kv: Deno.Kv, platformId: string): Promise<number> {
  return (await kv.get<number>(assetUsageKeys.bytes(platformId))).value ?? 0;
}
