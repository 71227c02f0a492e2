/** Ending a subscription at the payment provider now, once per subscription. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { onceWithResult } from "@/lib/kv/provider_calls.ts";
import { NotFoundError } from "@/lib/errors.ts";

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
        const status = (err as { statusCode?: number }).statusCode;
        if (err instanceof NotFoundError || status === 404) return null;
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
