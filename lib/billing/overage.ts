/**
 * Billing the overage at a period's end: the calls a customer made past the tier's limit in the
 * period that just ended are reported to the provider as one meter event on the subscription's
 * metered price (Stripe Billing Meters; the invoice of the new period bills them), and recorded
 * as overage revenue. Idempotent: a period is closed once, whatever retries or redeliveries.
 */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import { findCustomer } from "@/lib/customers/customers.ts";
import { tierOf } from "@/lib/catalog/tiers.ts";
import { overageEventName } from "@/lib/catalog/sync.ts";
import { onceWithKey } from "@/lib/kv/provider_calls.ts";
import { isClosed, recordClosedOverage } from "@/lib/kv/overage.ts";
import { dayKey } from "@/lib/period.ts";

/** What closing a period billed: calls past the limit and their amount (minor units). */
export interface OverageClose {
  calls: number;
  amount: number;
  closed: "now" | "before" | "nothing";
}

export async function closeOverage(
  s: Services,
  project: Project,
  o: {
    acct: AccountRef;
    customerId: string;
    /** The customer at the provider (the meter's customer mapping). */
    providerCustomer: string;
    subscriptionId: string;
    /** The period that ended (epoch seconds). */
    period: { start: number; end: number };
  },
): Promise<OverageClose> {
  const identifier = `dream_ovg_${o.subscriptionId}_${o.period.start}`;
  if (await isClosed(s.kv, project.pk, identifier)) {
    return { calls: 0, amount: 0, closed: "before" };
  }
  const customer = await findCustomer(s, project.pk, o.customerId);
  const tier = customer?.subscription ? tierOf(project, customer.subscription.tierId) : null;
  if (!customer || !tier?.overage || tier.limit === null || !tier.overagePriceId) {
    return { calls: 0, amount: 0, closed: "nothing" };
  }
  const periodStart = new Date(o.period.start * 1000).toISOString();
  const count = await s.meter.peek(project.pk, customer.id, {
    start: periodStart,
    end: new Date(o.period.end * 1000).toISOString(),
  });
  const calls = Math.max(0, count - tier.limit);
  const amount = Math.ceil(calls / tier.overage.per) * tier.overage.unitAmount;
  if (calls > 0) {
    await onceWithKey(s.kv, {
      scope: `overage:${project.pk}:${identifier}`,
      now: s.clock.now(),
      call: async () => {
        await s.payments.reportMeterEvent(o.acct, {
          eventName: overageEventName(project.pk),
          customer: o.providerCustomer,
          value: calls,
          identifier,
          timestamp: o.period.end - 1, // inside the period it bills
        });
        return identifier;
      },
    });
  }
  const now = s.clock.now();
  const first = await recordClosedOverage(s.kv, project.pk, {
    identifier,
    day: dayKey(now),
    record: { customerId: customer.id, periodStart, calls, amount, closedAt: now },
  });
  return { calls, amount, closed: first ? "now" : "before" };
}
