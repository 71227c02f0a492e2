/** What handling a provider event answers, and the two records every handler may keep. */
import type { Services } from "@/lib/services.ts";
import type { StripeEvent } from "@/lib/payments/provider.ts";
import { claimEvent, logEvent } from "@/lib/kv/events.ts";
import { ulid } from "@/lib/ids.ts";

/** A handler's one-line outcome ("applied", "ignored", "duplicate", …). */
export type Outcome = string;
export type Handler = (s: Services, ev: StripeEvent) => Promise<Outcome>;

/** Keeps what an event did in the project's event log (`GET /v1/projects/{pk}/events`). */
export async function log(
  s: Services,
  ev: StripeEvent,
  o: { pk: string; outcome: string; summary: string },
) {
  const { pk, outcome, summary } = o;
  await logEvent(s.kv, pk, {
    listId: ulid(s.clock.now()),
    entry: { id: ev.id, type: ev.type, created: ev.created, summary, outcome },
  });
}

/** Claims an event we don't act on: false when it was claimed before. */
export function claimOnly(s: Services, ev: StripeEvent): Promise<boolean> {
  return claimEvent(s.kv, ev.id, s.clock.now());
}

/**
 * Claims an event that changes nothing (more) here: answers `outcome`, or "duplicate" when the
 * event was claimed before.
 */
export async function settle(
  s: Services,
  ev: StripeEvent,
  outcome: Outcome = "ignored",
): Promise<Outcome> {
  return (await claimOnly(s, ev)) ? outcome : "duplicate";
}
