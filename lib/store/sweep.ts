/**
 * The sweep of store holds whose time has passed without an event (the `sweep-holds` job): the
 * provider is asked about each one's session first, so a paid one becomes a sale and an open one
 * is expired; the rest are released. One hold that fails stays due and never stops the others.
 */
import type { Services } from "@/lib/services.ts";
import { getProject } from "@/lib/kv/projects.ts";
import {
  dropDueEntry,
  dueReservations,
  extendHold,
  getReservation,
} from "@/lib/kv/reservations.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { completeReservation, releaseReservation } from "@/lib/store/cart.ts";

/** How long a hold whose payment is on its way waits before the sweep asks the provider again. */
const ASYNC_PAYMENT_RECHECK_MS = 3600_000;

/**
 * Releases holds whose time has passed without an event: asks the provider about the session
 * first (a paid one becomes a sale, an open one is expired). Reads only the due index up to now.
 * Returns how many holds were settled (released, or found paid).
 */
export async function sweepReservations(s: Services, graceMs = 60_000): Promise<number> {
  const cutoffIso = new Date(s.clock.now() - graceMs).toISOString();
  let n = 0;
  for await (const { key, pk, id } of dueReservations(s.kv, { cutoffIso, limit: 500 })) {
    try {
      if (await sweepOne(s, { key, pk, id })) n++;
    } catch (err) {
      // left due for the next sweep; the holds after it go on
      s.logger.error("sweep could not settle a hold", { pk, id, error: String(err) });
    }
  }
  return n;
}

/** One due hold: sold when the provider says it was paid, else released; true when settled. */
async function sweepOne(
  s: Services,
  { key, pk, id }: { key: Deno.KvKey; pk: string; id: string },
): Promise<boolean> {
  const r = await getReservation(s.kv, pk, id);
  if (!r || r.status !== "pending") {
    await dropDueEntry(s.kv, key);
    return false;
  }
  const project = await getProject(s.kv, pk);
  if (r.sessionId && project) {
    try {
      const acct = await accountFor(s, project);
      const session = await s.payments.retrieveCheckoutSession(acct, r.sessionId);
      if (session.status === "complete" && session.payment_status === "unpaid") {
        // completed with a payment still on its way (a bank debit): held until it arrives
        // (`checkout.session.async_payment_succeeded`) or fails (`…_failed` releases it)
        await extendHold(s.kv, { pk, id, until: s.clock.now() + ASYNC_PAYMENT_RECHECK_MS });
        return false;
      }
      if (session.status === "complete") {
        await completeReservation(s, { pk, id }, { amountTotal: session.amount_total });
        return true;
      }
      if (session.status === "open") await s.payments.expireCheckoutSession(acct, r.sessionId);
    } catch (err) {
      s.logger.warn("sweep could not ask the provider", { pk, id, error: String(err) });
    }
  }
  // expiring the session may already have released it through its event
  await releaseReservation(s, { pk, id });
  return (await getReservation(s.kv, pk, id))?.status === "released";
}
