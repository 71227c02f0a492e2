/**
 * Webhook endpoint leases: one attempt at a time per endpoint, across instances. A lease names
 * its holder and expires by itself, so an instance that stops holding one holds up nobody.
 */

export const leaseKeys = {
  lease: (pk: string, endpointId: string) => ["webhook_lease", pk, endpointId] as const,
};

/** Takes the endpoint's lease for `ms` (or renews the holder's own); false when another holds it. */
export async function takeLease(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; holder: string; ms: number },
): Promise<boolean> {
  const key = leaseKeys.lease(pk, o.endpointId);
  const cur = await kv.get<string>(key);
  if (cur.value && cur.value !== o.holder) return false;
  return (await kv.atomic().check(cur).set(key, o.holder, { expireIn: o.ms }).commit()).ok;
}

/**
 * Gives up the holder's lease; one that expired and was taken by another holder meanwhile is
 * theirs and stays.
 */
export async function dropLease(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; holder: string },
): Promise<void> {
  const cur = await kv.get<string>(leaseKeys.lease(pk, o.endpointId));
  if (cur.value !== o.holder) return;
  await kv.atomic().check(cur).delete(cur.key).commit();
}
