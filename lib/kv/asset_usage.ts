/** Bytes of images each developer stores, checked against the upload quota. */
import { updateChecked } from "@/lib/kv/_atomic.ts";

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
  o: { delta: number; quota: number },
): Promise<boolean> {
  const { delta, quota } = o;
  return updateChecked<number, boolean>(kv, assetUsageKeys.bytes(platformId), {
    what: "count the upload",
    change: (cur) => {
      const next = Math.max(0, (cur ?? 0) + delta);
      return delta > 0 && quota > 0 && next > quota ? { result: false } : { next, result: true };
    },
  });
}

export async function assetBytes(kv: Deno.Kv, platformId: string): Promise<number> {
  return (await kv.get<number>(assetUsageKeys.bytes(platformId))).value ?? 0;
}
