/** Provider events: the claim that makes each event apply once, and a per-project event log. */
import { listPage } from "@/lib/kv/_atomic.ts";
export interface EventLogEntry {
  id: string;
  type: string;
  created: number;
  summary: string;
  outcome: string;
  /** Who did it, for developer actions (`developer plt_…`, `token dat_…`); absent on provider events. */
  actor?: string;
}

export const eventKeys = {
  /** Claimed atomically with an event's effects; a second delivery finds it and changes nothing. */
  claim: (eventId: string) => ["stripe_events", eventId] as const,
  /** The project's event log, newest last (ULID keys). */
  log: (pk: string, ulid: string) => ["project_events", pk, ulid] as const,
  listLog: (pk: string) => ["project_events", pk] as const,
  /** The same entries by type, for the type filter (written with the log entry). */
  logByType: (pk: string, type: string, ulid: string) =>
    ["project_events_by_type", pk, type, ulid] as const,
  listLogByType: (pk: string, type: string) => ["project_events_by_type", pk, type] as const,
};

/** How long an event id is remembered as applied (Stripe retries for up to 3 days). */
export const EVENT_CLAIM_TTL_MS = 30 * 86_400_000;

/**
 * Adds the claim of `eventId` to an atomic operation: the commit fails if the event was
 * claimed meanwhile, so its effects apply once.
 */
export function withClaim(op: Deno.AtomicOperation, eventId: string, now: number) {
  const key = eventKeys.claim(eventId);
  return op.check({ key, versionstamp: null }).set(key, { at: now }, {
    expireIn: EVENT_CLAIM_TTL_MS,
  });
}

/** Claims an event that changes nothing else: false when it was claimed before. */
export async function claimEvent(kv: Deno.Kv, eventId: string, now: number): Promise<boolean> {
  return (await withClaim(kv.atomic(), eventId, now).commit()).ok;
}

/** Whether an event was claimed already (read before deciding its effects). */
export async function isClaimed(kv: Deno.Kv, eventId: string): Promise<boolean> {
  return (await kv.get(eventKeys.claim(eventId))).versionstamp !== null;
}

/** Appends to a project's event log (kept 90 days). */
export async function logEvent(
  kv: Deno.Kv,
  pk: string,
  o: { listId: string; entry: EventLogEntry },
): Promise<void> {
  const expireIn = 90 * 86_400_000;
  await kv.atomic()
    .set(eventKeys.log(pk, o.listId), o.entry, { expireIn })
    .set(eventKeys.logByType(pk, o.entry.type, o.listId), o.entry, { expireIn })
    .commit();
}

/** One page of a project's events, newest first. */
export async function listEvents(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string; type?: string },
) {
  const prefix = opts.type ? eventKeys.listLogByType(pk, opts.type) : eventKeys.listLog(pk);
  const page = await listPage<EventLogEntry>(kv, { prefix }, { ...opts, reverse: true });
  return { items: page.entries.map((e) => e.value), nextCursor: page.nextCursor };
}
