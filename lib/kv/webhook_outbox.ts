/**
 * The outbound-webhook outbox and delivery log. An event row is written in the same commit as
 * the change it reports (`addEvents`); the worker fans each one out into one delivery per
 * subscribed endpoint (`fanOut`), then attempts deliveries whose time has come, in order per
 * endpoint, through a due index (`webhook_due`, ISO time first) so its cost follows what is due.
 */
import { ulid } from "@/lib/ids.ts";

/** An event to send: its type, the API-shaped object and that object's version. */
export interface OutboxEvent {
  type: string;
  data: unknown;
  /** Grows with each change of the object (ms epoch, or the provider's timestamp). */
  version: number;
}

interface StoredEvent extends OutboxEvent {
  id: string;
  pk: string;
  createdAt: number;
}

export interface Attempt {
  at: number;
  status: number | null;
  durationMs: number;
  error: string | null;
}

export interface Delivery {
  id: string;
  pk: string;
  endpointId: string;
  type: string;
  /** The JSON body, signed and sent as is on every attempt. */
  body: string;
  createdAt: number;
  state: "pending" | "delivered" | "failed";
  attempts: Attempt[];
  /** When the next attempt is due (ms epoch); null once delivered or failed. */
  nextAt: number | null;
}

export const outboxKeys = {
  event: (pk: string, id: string) => ["webhook_events", pk, id] as const,
  allEvents: () => ["webhook_events"] as const,
  delivery: (pk: string, endpointId: string, id: string) =>
    ["webhook_deliveries", pk, endpointId, id] as const,
  listDeliveries: (pk: string, endpointId: string) =>
    ["webhook_deliveries", pk, endpointId] as const,
  due: (at: number, pk: string, endpointId: string, id: string) =>
    ["webhook_due", new Date(at).toISOString(), pk, endpointId, id] as const,
  allDue: () => ["webhook_due"] as const,
  /** One attempt at a time per endpoint, across instances (expires by itself). */
  lease: (pk: string, endpointId: string) => ["webhook_lease", pk, endpointId] as const,
  /** `usage.limit_reached` goes out once per customer and period. */
  limitReached: (pk: string, customerId: string, periodStart: string) =>
    ["webhook_limit_reached", pk, customerId, periodStart] as const,
};

/** Adds events to the caller's commit (nothing when `events` is empty). */
export function addEvents(
  op: Deno.AtomicOperation,
  pk: string,
  o: { events: OutboxEvent[]; now: number },
): Deno.AtomicOperation {
  for (const e of o.events) {
    const id = `msg_${ulid(o.now)}`;
    op = op.set(outboxKeys.event(pk, id), { ...e, id, pk, createdAt: o.now } satisfies StoredEvent);
  }
  return op;
}

/** Events waiting to be fanned out, oldest first. */
export async function pendingEvents(kv: Deno.Kv, limit: number): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const e of kv.list<StoredEvent>({ prefix: outboxKeys.allEvents() }, { limit })) {
    out.push(e.value);
  }
  return out;
}

/**
 * Replaces an event row by its deliveries (one per endpoint, due now) in one commit checked on
 * the row, so an event is fanned out once even with two workers.
 */
export async function fanOut(
  kv: Deno.Kv,
  event: StoredEvent,
  o: { endpointIds: string[]; body: (deliveryId: string) => string; now: number },
): Promise<boolean> {
  const row = await kv.get(outboxKeys.event(event.pk, event.id));
  if (!row.value) return false;
  let op = kv.atomic().check(row).delete(row.key);
  for (const endpointId of o.endpointIds) {
    // the delivery id is the webhook-id: the same on every attempt, unique per endpoint
    const id = o.endpointIds.length === 1 ? event.id : `${event.id}_${endpointId.slice(-6)}`;
    op = putDelivery(op, {
      id,
      pk: event.pk,
      endpointId,
      type: event.type,
      body: o.body(id),
      createdAt: event.createdAt,
      state: "pending",
      attempts: [],
      nextAt: o.now,
    });
  }
  return (await op.commit()).ok;
}

function putDelivery(op: Deno.AtomicOperation, d: Delivery): Deno.AtomicOperation {
  op = op.set(outboxKeys.delivery(d.pk, d.endpointId, d.id), d);
  return d.nextAt === null ? op : op.set(outboxKeys.due(d.nextAt, d.pk, d.endpointId, d.id), true);
}

/** A delivery made directly (a test `ping`), due now. */
export async function createDelivery(kv: Deno.Kv, d: Delivery): Promise<void> {
  await putDelivery(kv.atomic(), d).commit();
}

/** Deliveries due by `now`, oldest first. */
export async function dueDeliveries(
  kv: Deno.Kv,
  o: { now: number; limit: number },
): Promise<{ pk: string; endpointId: string; id: string; dueKey: Deno.KvKey }[]> {
  const out = [];
  for await (
    const e of kv.list({
      start: outboxKeys.allDue(),
      end: [...outboxKeys.allDue(), new Date(o.now + 1).toISOString()],
    }, { limit: o.limit })
  ) {
    const [, , pk, endpointId, id] = e.key as [string, string, string, string, string];
    out.push({ pk, endpointId, id, dueKey: e.key });
  }
  return out;
}

/** Drops a due entry whose delivery is gone (its project or endpoint was deleted). */
export async function dropDue(kv: Deno.Kv, dueKey: Deno.KvKey): Promise<void> {
  await kv.delete(dueKey);
}

export async function getDelivery(kv: Deno.Kv, pk: string, endpointId: string, id: string) {
  return await kv.get<Delivery>(outboxKeys.delivery(pk, endpointId, id));
}

/**
 * Writes a delivery's new state (an attempt recorded, the next time or the end) in place of its
 * old due entry, checked on the record read.
 */
export async function saveDelivery(
  kv: Deno.Kv,
  prior: Deno.KvEntry<Delivery>,
  next: Delivery,
): Promise<boolean> {
  let op = kv.atomic().check(prior);
  if (prior.value.nextAt !== null) {
    op = op.delete(
      outboxKeys.due(prior.value.nextAt, prior.value.pk, prior.value.endpointId, prior.value.id),
    );
  }
  return (await putDelivery(op, next).commit()).ok;
}

/** An endpoint's deliveries, newest first. */
export async function listDeliveries(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; limit: number },
): Promise<Delivery[]> {
  const out: Delivery[] = [];
  for await (
    const e of kv.list<Delivery>({ prefix: outboxKeys.listDeliveries(pk, o.endpointId) }, {
      reverse: true,
      limit: o.limit,
    })
  ) out.push(e.value);
  return out;
}

/** Takes the endpoint's lease for `ms` (one attempt at a time); false when another holds it. */
export async function takeLease(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; holder: string; ms: number },
): Promise<boolean> {
  const key = outboxKeys.lease(pk, o.endpointId);
  const cur = await kv.get<string>(key);
  if (cur.value && cur.value !== o.holder) return false;
  return (await kv.atomic().check(cur).set(key, o.holder, { expireIn: o.ms }).commit()).ok;
}

export async function dropLease(kv: Deno.Kv, pk: string, endpointId: string): Promise<void> {
  await kv.delete(outboxKeys.lease(pk, endpointId));
}

/** Writes the once-per-period `usage.limit_reached` event; false when it was written before. */
export async function claimLimitReached(
  kv: Deno.Kv,
  pk: string,
  o: { customerId: string; periodStart: string; event: OutboxEvent; now: number },
): Promise<boolean> {
  const key = outboxKeys.limitReached(pk, o.customerId, o.periodStart);
  const op = kv.atomic().check({ key, versionstamp: null }).set(key, o.now, {
    expireIn: 400 * 86_400_000,
  });
  return (await addEvents(op, pk, { events: [o.event], now: o.now }).commit()).ok;
}
