/** Expiring a checkout the customer must no longer pay, when it is still open. */
import type { Services } from "@/lib/services.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";

/**
 * Expires checkout session `id` at the provider. One that is not open any more (paid or expired
 * meanwhile) can't be, nor any when the account can't be had: that is logged, not thrown, and
 * what a paid one made is dealt with when its events arrive (lib/webhooks/dispatch.ts).
 */
export async function expireIfOpen(
  s: Pick<Services, "payments" | "logger">,
  acct: AccountRef | Promise<AccountRef>,
  id: string,
  why: string,
): Promise<void> {
  try {
    await s.payments.expireCheckoutSession(await acct, id);
  } catch (err) {
    s.logger.info(`${why}: the checkout was not open any more`, {
      session: id,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}
