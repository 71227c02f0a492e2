/** The health probe's own key: read and written (expiring) on every probe of the store. */
export const healthKeys = {
  probe: (instance: string) => ["health_probes", instance] as const,
};

/** Reads, then writes, the probe key: which of the two failed, or null when both worked. */
export async function probeReadWrite(
  kv: Deno.Kv,
  instance: string,
  now: number,
): Promise<"read" | "write" | null> {
  const key = healthKeys.probe(instance);
  try {
    await kv.get(key);
  } catch {
    return "read";
  }
  try {
    return (await kv.set(key, now, { expireIn: 60_000 })).ok ? null : "write";
  } catch {
    return "write";
  }
}
