/** Expiring a checkout the customer must no longer pay, when it is still open. */
import type { Services } from "@/lib/services.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { takeOpenCheckoutsOfTier } from "@/lib/kv/open_checkouts.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";

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

/**
 * Expires the open subscription checkouts of a tier just deleted: nothing a customer paid there
 * would give them anything (one paid in the moment before is ended by its first event:
 * lib/webhooks/dispatch.ts).
 */
export async function expireTierCheckouts(
  s: Services,
  project: Project,
  tierId: string,
): Promise<void> {
  const open = await takeOpenCheckoutsOfTier(s.kv, { pk: project.pk, tierId });
  if (open.length === 0) return;
  const acct = accountFor(s, project);
  acct.catch(() => {}); // each expiry below logs its own failure
  for (const id of open) await expireIfOpen(s, acct, id, "its tier was deleted");
}
