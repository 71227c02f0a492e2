/**
 * The audit trail: developer actions (refunds, usage resets, cancellations …) written to the
 * project's event log next to the provider's events, each with its actor.
 */
import type { Services } from "@/lib/services.ts";
import { logEvent } from "@/lib/kv/events.ts";
import { ulid } from "@/lib/ids.ts";

/** Records one action: `type` like `order.refunded`, `actor` like `developer plt_…`. */
export async function recordAction(
  s: Services,
  pk: string,
  o: { type: string; summary: string; actor: string; outcome?: string },
): Promise<void> {
  const now = s.clock.now();
  const listId = ulid(now);
  await logEvent(s.kv, pk, {
    listId,
    entry: {
      id: `act_${listId}`,
      type: o.type,
      created: Math.floor(now / 1000),
      summary: `${o.summary} by ${o.actor}`,
      outcome: o.outcome ?? "done",
      actor: o.actor,
    },
  });
}
