/**
 * Billing the overage at a period's end: the calls a customer made past the tier's limit in a
 * period that ended are billed, and recorded as overage revenue, once per subscription and
 * period, whatever retries or redeliveries. A period that ends in a renewal is reported as one
 * meter event on the subscription's metered price (Stripe Billing Meters: the renewal invoice
 * bills it); the last period of a subscription that ended has no renewal invoice, so it is billed
 * on an invoice of its own.
 */
import type { Services } from "@/lib/services.ts";
import type { Project, Tier } from "@/lib/kv/projects.ts";
import type { AccountRef, StripeSubscription } from "@/lib/payments/provider.ts";
import { tierOf } from "@/lib/catalog/tiers.ts";
import { overageEventName } from "@/lib/catalog/sync.ts";
import { onceWithKey } from "@/lib/kv/provider_calls.ts";
import { isClosed, overageIdentifier, recordClosedOverage } from "@/lib/kv/overage.ts";
import { dayKey } from "@/lib/period.ts";
import { type Customer, getCustomer } from "@/lib/kv/customers.ts";

/**
 * How long after a subscription ended its last period may still be billed: Stripe retries an
 * event for 3 days; an event about an older end is not a reason to bill.
 */
const BILL_ENDED_WITHIN_S = 7 * 86_400;

/** What closing a period billed: calls past the limit and their amount (minor units). */
export interface OverageClose {
  calls: number;
  amount: number;
  closed: "now" | "before" | "nothing";
}

/**
 * How the provider is told (a meter event for a renewal invoice, or an invoice of its own); made
 * once per period (`idempotencyKey` the same on a retry).
 */
type Bill = (
  o: { tier: Tier; calls: number; amount: number; identifier: string },
  idempotencyKey: string,
) => Promise<unknown>;

async function close(
  s: Services,
  project: Project,
  o: {
    customer: Customer | null;
    subscriptionId: string;
    period: { start: number; end: number };
    bill: Bill;
  },
): Promise<OverageClose> {
  const identifier = overageIdentifier(o.subscriptionId, o.period.start);
  if (await isClosed(s.kv, project.pk, identifier)) {
    return { calls: 0, amount: 0, closed: "before" };
  }
  const customer = o.customer;
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
      call: async (key) => (await o.bill({ tier, calls, amount, identifier }, key), identifier),
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

/**
 * A renewal: the period that ended is reported as one meter event (its `identifier` makes a
 * repeated report count once), inside the renewal invoice's finalization grace period.
 */
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
  return close(s, project, {
    customer: await getCustomer(s.kv, project.pk, o.customerId),
    subscriptionId: o.subscriptionId,
    period: o.period,
    bill: ({ calls, identifier }) =>
      s.payments.reportMeterEvent(o.acct, {
        eventName: overageEventName(project.pk),
        customer: o.providerCustomer,
        value: calls,
        identifier,
        timestamp: o.period.end - 1, // inside the period it bills
      }),
  });
}

/**
 * A subscription that ended (canceled at its period's end, or now): the calls past the limit in
 * its last period, up to now, are billed on an invoice of their own, charged to the card the
 * subscription was paid with. Only for the subscription the customer holds, ended (not a second
 * subscription ended beside it), on the tier it ended on, within a week of its end, after its
 * trial; not for a deleted project (its subscriptions end with its purge) nor a deleted customer
 * (`closeUnbilled` first).
 */
export async function closeEndedSubscription(
  s: Services,
  project: Project,
  o: { acct: AccountRef; customerId: string; sub: StripeSubscription },
): Promise<OverageClose> {
  // an event about an end long past (a late redelivery) bills nothing after the fact
  const ended = o.sub.ended_at ?? null;
  const stale = ended !== null && s.clock.now() / 1000 - ended > BILL_ENDED_WITHIN_S;
  // (an unpaid first invoice that expired, `incomplete_expired`, never gave the tier's limit;
  // usage in a trial is not billed, as Stripe bills no metered usage of a trial)
  const inTrial = ended !== null && (o.sub.trial_end ?? 0) >= ended;
  const customer = project.deletedAt || stale || inTrial || o.sub.status !== "canceled"
    ? null
    : await getCustomer(s.kv, project.pk, o.customerId);
  const held = customer?.subscription;
  if (!held || held.id !== o.sub.id || held.status !== "canceled") {
    return { calls: 0, amount: 0, closed: "nothing" };
  }
  const pm = o.sub.default_payment_method;
  return close(s, project, {
    customer,
    subscriptionId: o.sub.id,
    period: {
      start: Date.parse(held.currentPeriodStart) / 1000,
      end: Date.parse(held.currentPeriodEnd) / 1000,
    },
    bill: ({ tier, calls, amount, identifier }, idempotencyKey) =>
      s.payments.invoiceOnce(o.acct, {
        customer: o.sub.customer,
        amount,
        currency: tier.currency,
        description: `${tier.name}: ${calls} calls past the limit of ${tier.limit}, ${
          held.currentPeriodStart.slice(0, 10)
        } to ${held.currentPeriodEnd.slice(0, 10)}`,
        paymentMethod: typeof pm === "string" ? pm : pm?.id ?? null,
        metadata: {
          dream_pk: project.pk,
          dream_customer: o.customerId,
          dream_overage: identifier,
        },
        idempotencyKey,
      }),
  });
}
