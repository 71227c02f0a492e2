/** Expiring a checkout the customer must no longer pay, when it is still open. */
import type { Services } from "@/lib/services.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { takeOpenCheckouts } from "@/lib/kv/open_checkouts.ts";
import { pendingHolds } from "@/lib/kv/reservations.ts";
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
 * Expires the open checkouts of a tier or product just deleted (`tierId`), or of a project just
 * deleted (no `tierId`): subscription checkouts, or the unpaid carts holding the product. Nothing
 * a customer paid there would give them anything (a subscription paid in the moment before is
 * ended by its first event, lib/webhooks/dispatch.ts, or by the purge); an expired cart gives its
 * stock back as any does.
 */
export async function expireCheckoutsOf(
  s: Services,
  project: Project,
  tierId?: string,
): Promise<void> {
  const open = project.type === "saas"
    ? await takeOpenCheckouts(s.kv, { pk: project.pk, ...(tierId ? { tierId } : {}) })
    : (await pendingHolds(s.kv, project.pk))
      .filter((r) =>
        r.sessionId !== null && (tierId === undefined || r.lines.some((l) => l.tierId === tierId))
      )
      .map((r) => r.sessionId!);
  if (open.length === 0) return;
  const acct = accountFor(s, project);
  acct.catch(() => {}); // each expiry below logs its own failure
  const why = tierId === undefined
    ? "its project was deleted"
    : project.type === "saas"
    ? "its tier was deleted"
    : "a product in it was deleted";
  for (const id of open) await expireIfOpen(s, acct, id, why);
}
