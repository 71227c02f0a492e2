/**
 * The audit trail: developer actions (refunds, usage resets, cancellations …) written to the
 * project's event log next to the provider's events, each with its actor.
 */
import type { Services } from "@/lib/services.ts";
import { logEvent } from "@/lib/kv/events.ts";
import { ulid } from "@/lib/ids.ts";
import { afterward } from "@/lib/afterward.ts";

/**
 * Records one action: `type` like `order.refunded`, `actor` like `developer plt_…`. Called once
 * the action is done, so a store that fails here must not make a done action answer as failed
 * (a rotated key or a new endpoint's secret would then be lost to its developer, and a retry
 * would act twice): the entry is written `afterward`, under one id (a write that went through is
 * not written twice), and the action's answer stands.
 */
export async function recordAction(
  s: Services,
  pk: string,
  o: { type: string; summary: string; actor: string; outcome?: string },
): Promise<void> {
  const now = s.clock.now();
  const listId = ulid(now);
  const entry = {
    id: `act_${listId}`,
    type: o.type,
    created: Math.floor(now / 1000),
    summary: `${o.summary} by ${o.actor}`,
    outcome: o.outcome ?? "done",
    actor: o.actor,
  };
  await afterward(
    s.logger,
    "audit entry not recorded",
    { pk, ...entry },
    () => logEvent(s.kv, pk, { listId, entry }),
  );
}
