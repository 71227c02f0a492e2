/**
 * What a developer does to one customer from the dashboard or the developer API (and, for a
 * deletion, from their backend with the secret key): reset this period's usage, cancel the
 * subscription (now or at period end), delete. Each is recorded with its actor.
 */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { deleteCustomer, requireCustomer } from "@/lib/customers/customers.ts";
import { cancelNowAtProvider } from "@/lib/payments/cancel_now.ts";
import { PAID_STATUSES, planOf } from "@/lib/usage/plan.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { applySubscription, snapshot } from "@/lib/billing/subscriptions.ts";
import { setCancelAtPeriodEnd } from "@/lib/billing/checkout.ts";
import { recordAction } from "@/lib/audit.ts";
import { ConflictError, NotFoundError } from "@/lib/errors.ts";

/**
 * Sets the customer's count for its current period (the one its plan counts against now) to 0,
 * a log line every instance learns; earlier periods, and another plan's period this one overlaps,
 * keep their counts.
 */
export async function resetUsage(
  s: Services,
  project: Project,
  o: { id: string; actor: string },
): Promise<void> {
  const customer = await requireCustomer(s, project.pk, o.id);
  const { period } = planOf(s, project, customer);
  await s.meter.resetCustomer(project.pk, o.id, period.start);
  await recordAction(s, project.pk, {
    type: "customer.usage_reset",
    summary: `usage of ${o.id} reset to 0`,
    actor: o.actor,
  });
}

/**
 * Cancels a customer's paying subscription at the provider: at period end (undoable, the plan
 * stays until then) or now (the plan ends at once; no refund, no proration).
 */
export async function cancelCustomerSubscription(
  s: Services,
  project: Project,
  o: { id: string; atPeriodEnd: boolean; actor: string },
) {
  const customer = await requireCustomer(s, project.pk, o.id);
  const sub = customer.subscription;
  if (!sub || !PAID_STATUSES.has(sub.status)) {
    throw new NotFoundError(`Customer "${o.id}" has no active subscription`);
  }
  let result;
  if (o.atPeriodEnd) {
    result = await setCancelAtPeriodEnd(s, project, {
      who: { id: o.id, mayCreate: false },
      cancel: true,
    });
  } else {
    const sentAt = s.clock.now();
    const ended = await cancelNowAtProvider(s, project, sub.id) ??
      await s.payments.retrieveSubscription(await accountFor(s, project), sub.id);
    const snap = snapshot(project, ended, sentAt);
    if (!snap) throw new ConflictError("The subscription's price no longer matches a tier");
    await applySubscription(s, { project, customerId: customer.id }, { sub: snap });
    result = snap;
  }
  await recordAction(s, project.pk, {
    type: "subscription.canceled",
    summary: `subscription ${sub.id} of ${o.id} canceled ${
      o.atPeriodEnd ? "at period end" : "now"
    }`,
    actor: o.actor,
  });
  return result;
}

/**
 * Deletes a customer's data (a paying subscription is canceled at the provider first), recorded
 * as `customer.deleted` with its actor (`token tok_…`, `developer plt_…` or `secret key sk_…`).
 */
export async function removeCustomerAsDeveloper(
  s: Services,
  project: Project,
  o: { id: string; actor: string },
): Promise<void> {
  await deleteCustomer(s, project, o.id);
  await recordAction(s, project.pk, {
    type: "customer.deleted",
    summary: `customer ${o.id} deleted`,
    actor: o.actor,
  });
}
