/** Usage counters: one number per customer per billing period, written only by the meter. */
import { getManyChunked } from "@/lib/kv/_atomic.ts";
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { dayKey, monthKey } from "@/lib/kv/time_keys.ts";
export const usageKeys = {
  /** `periodKey` is the period start as an ISO string, so a prefix scan is a time series. */
  counter: (pk: string, customerId: string, periodKey: string) =>
    ["usage", pk, customerId, periodKey] as const,
  byCustomer: (pk: string, customerId: string) => ["usage", pk, customerId] as const,
};

/** Removes every usage counter of a customer (customer deletion). */
export async function deleteCustomerUsage(kv: Deno.Kv, pk: string, customerId: string) {
  const keys: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix: usageKeys.byCustomer(pk, customerId) })) keys.push(e.key);
  for (let i = 0; i < keys.length; i += 100) {
    let op = kv.atomic();
    for (const k of keys.slice(i, i + 100)) op = op.delete(k);
    await op.commit();
  }
  return keys;
}

/** One counter as read: its value and versionstamp (null when it was never written). */
export async function readCounter(
  kv: Deno.Kv,
  key: Deno.KvKey,
): Promise<{ value: number; versionstamp: string | null }> {
  const got = await kv.get<number>(key);
  return { value: got.value ?? 0, versionstamp: got.versionstamp };
}

/** Counters and idempotency records of one batch, read together (chunks of 10). */
export function readUsageKeys(kv: Deno.Kv, keys: Deno.KvKey[]) {
  return getManyChunked<unknown>(kv, keys);
}

/**
 * One group commit of the meter: every changed counter checked on the versionstamp it was
 * decided on, the new idempotency records (which must not exist yet), and the project's daily
 * and monthly sums. Answers the commit's versionstamp, or null when another writer got there
 * first (the batch is then decided again).
 */
export async function commitUsageBatch(
  kv: Deno.Kv,
  o: {
    counters: { key: Deno.KvKey; value: number; versionstamp: string | null }[];
    claims: { key: Deno.KvKey; record: IdempotencyRecord }[];
    perProject: Map<string, number>;
    now: number;
  },
): Promise<string | null> {
  let op = kv.atomic();
  for (const c of o.counters) {
    op = op.check({ key: c.key, versionstamp: c.versionstamp }).set(c.key, c.value);
  }
  for (const cl of o.claims) {
    op = op.check({ key: cl.key, versionstamp: null }).set(cl.key, cl.record, {
      expireIn: IDEMPOTENCY_TTL_MS,
    });
  }
  for (const [pk, q] of o.perProject) {
    op = op.sum(projectStatKeys.usageMonth(pk, monthKey(o.now)), BigInt(q))
      .sum(projectStatKeys.usageDay(pk, dayKey(o.now)), BigInt(q));
  }
  const res = await op.commit();
  return res.ok ? res.versionstamp : null;
}
