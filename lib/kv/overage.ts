/**
 * Closed overage periods: one record per subscription and period, written with the overage
 * revenue it adds in one commit checked on its absence, so a period closed twice (a redelivered
 * event, a retried job) bills and counts once.
 */
import { projectStatKeys } from "@/lib/kv/project_stats.ts";

/** The identifier of a subscription's period (its meter event's, its closed record's). */
export const overageIdentifier = (subscriptionId: string, periodStartSeconds: number) =>
  `dream_ovg_${subscriptionId}_${periodStartSeconds}`;

/** `overageIdentifier` of a period given by its start as a record holds it (ISO text). */
const identifierOfPeriod = (o: { subscriptionId: string; periodStart: string }) =>
  overageIdentifier(o.subscriptionId, Date.parse(o.periodStart) / 1000);

export const overageKeys = {
  closed: (pk: string, identifier: string) => ["overage_closed", pk, identifier] as const,
};

export interface ClosedOverage {
  customerId: string;
  periodStart: string;
  calls: number;
  amount: number;
  closedAt: number;
}

/** Records a closed period and its revenue once; false when it was closed before. */
export async function recordClosedOverage(
  kv: Deno.Kv,
  pk: string,
  o: { identifier: string; day: string; record: ClosedOverage },
): Promise<boolean> {
  const key = overageKeys.closed(pk, o.identifier);
  const res = await kv.atomic()
    .check({ key, versionstamp: null })
    .set(key, o.record)
    .sum(projectStatKeys.overageRevenue(pk), BigInt(o.record.amount))
    .sum(projectStatKeys.day(pk, o.day, "overage"), BigInt(o.record.amount))
    .commit();
  return res.ok;
}

/**
 * Closes a subscription's period unbilled (its customer deleted with their usage: the ending
 * subscription's event must not bill it); false when it was closed before.
 */
export function closeUnbilled(
  kv: Deno.Kv,
  pk: string,
  o: { subscriptionId: string; periodStart: string; customerId: string; day: string; now: number },
): Promise<boolean> {
  return recordClosedOverage(kv, pk, {
    identifier: identifierOfPeriod(o),
    day: o.day,
    record: {
      customerId: o.customerId,
      periodStart: o.periodStart,
      calls: 0,
      amount: 0,
      closedAt: o.now,
    },
  });
}

/**
 * Undoes `closeUnbilled` (the cancellation it was written for failed, the customer stays): only
 * a record that billed nothing is removed; false when there was none such.
 */
export async function reopenUnbilled(
  kv: Deno.Kv,
  pk: string,
  o: { subscriptionId: string; periodStart: string },
): Promise<boolean> {
  const key = overageKeys.closed(pk, identifierOfPeriod(o));
  const cur = await kv.get<ClosedOverage>(key);
  if (!cur.value || cur.value.calls !== 0 || cur.value.amount !== 0) return false;
  return (await kv.atomic().check(cur).delete(key).commit()).ok;
}

export async function isClosed(kv: Deno.Kv, pk: string, identifier: string): Promise<boolean> {
  return (await kv.get(overageKeys.closed(pk, identifier))).versionstamp !== null;
}

/** The overage billed so far (minor units). */
export async function overageRevenue(kv: Deno.Kv, pk: string): Promise<number> {
  const v = (await kv.get<Deno.KvU64>(projectStatKeys.overageRevenue(pk))).value;
  return v ? Number(v.value) : 0;
}
