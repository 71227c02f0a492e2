/** Ending a subscription at the payment provider now, once per subscription. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import { isMissing } from "@/lib/payments/failures.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { onceWithResult } from "@/lib/kv/provider_calls.ts";
import { closeUnbilled, reopenUnbilled } from "@/lib/kv/overage.ts";
import type { Subscription } from "@/lib/kv/customers.ts";
import { dayKey } from "@/lib/period.ts";

/**
 * Ends a subscription at the provider now (once per subscription, whoever asks: deletion or the
 * developer's "cancel now"). The provider's answer, or null when this was done before or the
 * provider no longer has it.
 */
export async function cancelNowAtProvider(
  s: Services,
  project: Project,
  subscriptionId: string,
): Promise<StripeSubscription | null> {
  const acct = await accountFor(s, project);
  const { fresh } = await onceWithResult<StripeSubscription | null>(s.kv, {
    scope: `cancel_now:${subscriptionId}`,
    now: s.clock.now(),
    call: async (idempotencyKey) => {
      try {
        return await s.payments.cancelSubscription(acct, subscriptionId, { idempotencyKey });
      } catch (err) {
        // already gone at the provider: nothing left to cancel
        if (isMissing(err)) return null;
        throw err;
      }
    },
    idOf: (sub) => sub?.id ?? subscriptionId,
  });
  return fresh;
}

/**
 * `cancelNowAtProvider` for callers that carry on when it fails: false then, the failure logged
 * as "could not end `what`" (their caller retries later: the next event, the next purge run).
 */
export async function tryCancelNowAtProvider(
  s: Services,
  project: Project,
  subscriptionId: string,
  what: string,
): Promise<boolean> {
  try {
    await cancelNowAtProvider(s, project, subscriptionId);
    return true;
  } catch (err) {
    s.logger.warn(`could not end ${what}`, {
      pk: project.pk,
      subscription: subscriptionId,
      error: err instanceof Error ? err.message : String(err),
    });
    return false;
  }
}

/**
 * `cancelNowAtProvider` for a customer being deleted: their usage goes with them, so the
 * subscription's end bills no overage (as Stripe's customer deletion cancels without a final
 * invoice). The period is closed unbilled before the cancellation (whose event would bill it), and
 * opened again if the cancellation fails (the customer stays, and so does what they owe).
 */
export async function cancelNowUnbilled(
  s: Services,
  project: Project,
  o: { customerId: string; sub: Subscription },
): Promise<void> {
  const period = { subscriptionId: o.sub.id, periodStart: o.sub.currentPeriodStart };
  const now = s.clock.now();
  const closed = await closeUnbilled(s.kv, project.pk, {
    ...period,
    customerId: o.customerId,
    day: dayKey(now),
    now,
  });
  try {
    await cancelNowAtProvider(s, project, o.sub.id);
  } catch (err) {
    if (closed) await reopenUnbilled(s.kv, project.pk, period);
    throw err;
  }
}
