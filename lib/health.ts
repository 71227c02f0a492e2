/** Whether this instance can do its work: the store answers reads and takes writes. */
import type { Services } from "@/lib/services.ts";
import { probeReadWrite } from "@/lib/kv/health.ts";

const INSTANCE = crypto.randomUUID();

/**
 * Reads and writes a small expiring key: null when both work, else a sentence saying which
 * failed (a full disk makes every write fail while reads still answer).
 */
export async function probeStore(s: Pick<Services, "kv" | "clock">): Promise<string | null> {
  const failed = await probeReadWrite(s.kv, INSTANCE, s.clock.now());
  return failed === "read"
    ? "The KV store does not answer reads"
    : failed === "write"
    ? "The KV store can't be written (disk full or read-only?)"
    : null;
}
