/** Whether this instance can do its work: the store answers reads and takes writes. */
import type { Services } from "@/lib/services.ts";
import { healthKeys } from "@/lib/kv/health.ts";

const INSTANCE = crypto.randomUUID();

/**
 * Reads and writes a small expiring key: null when both work, else a sentence saying which
 * failed (a full disk makes every write fail while reads still answer).
 */
export async function probeStore(s: Services): Promise<string | null> {
  const key = healthKeys.probe(INSTANCE);
  try {
    await s.kv.get(key);
  } catch {
    return "The KV store does not answer reads";
  }
  try {
    const res = await s.kv.set(key, s.clock.now(), { expireIn: 60_000 });
    if (!res.ok) return "The KV store refused a write";
  } catch {
    return "The KV store can't be written (disk full or read-only?)";
  }
  return null;
}
