/**
 * The outbound-webhook outbox and delivery log. An event row is written in the same commit as
 * the change it reports (`addEvents`); the worker fans each one out into one delivery per
 * subscribed endpoint (`fanOut`), then works endpoint by endpoint: each endpoint has its own
 * queue of pending deliveries (`webhook_queue`, in order of their next attempt) and a schedule
 * (lib/kv/webhook_schedules.ts: when the worker should look at it next, and how many attempts in
 * a row failed, found through a wake index, time first). So what the worker reads
 * follows the endpoints that are due, and one endpoint's backlog or back-off never hides another
 * endpoint's deliveries (the index was once one list of every due delivery, where 500 deliveries
 * of a failing endpoint hid everyone else's). Everything that adds to a queue rewrites its
 * schedule row in the same commit checked on it, so a worker that finds a queue empty and drops
 * the schedule can never strand a delivery added meanwhile.
 */
import { ulid } from "@/lib/ids.ts";
import { listPage, RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { instantKey } from "@/lib/kv/time_keys.ts";
import {
  getSchedule,
  type Schedule,
  scheduleKeys,
  touchSchedule,
} from "@/lib/kv/webhook_schedules.ts";

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

/** A delivery waiting in its endpoint's queue. */
export interface Queued {
  id: string;
  at: number;
}

export const outboxKeys = {
  event: (pk: string, id: string) => ["webhook_events", pk, id] as const,
  allEvents: () => ["webhook_events"] as const,
  delivery: (pk: string, endpointId: string, id: string) =>
    ["webhook_deliveries", pk, endpointId, id] as const,
  listDeliveries: (pk: string, endpointId: string) =>
    ["webhook_deliveries", pk, endpointId] as const,
  /** A pending delivery in its endpoint's queue, by the time of its next attempt. */
  queued: (pk: string, endpointId: string, at: number, id: string) =>
    ["webhook_queue", pk, endpointId, instantKey(at), id] as const,
  queue: (pk: string, endpointId: string) => ["webhook_queue", pk, endpointId] as const,
  allQueued: () => ["webhook_queue"] as const,
  /** The previous version's index of every due delivery (read once, to move it to the queues). */
  legacyDue: () => ["webhook_due"] as const,
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

/**
 * Events waiting to be fanned out, project by project: the first `perProject` of each (oldest
 * first) of up to `projects` projects, so one project's burst of events never hides another's
 * (rows are keyed by project first; the next project is found by skipping past this one's rows).
 * The projects come in key order from the one after `after` (the last one taken by the pass
 * before), going round to the first, so projects past the first `projects` get their turn.
 */
export async function pendingEvents(
  kv: Deno.Kv,
  o: { perProject: number; projects: number; after?: string | undefined },
): Promise<StoredEvent[][]> {
  const out: StoredEvent[][] = [];
  const root = outboxKeys.allEvents();
  // past every row of a project (a number sorts after the strings of its ids)
  const past = (pk: string): Deno.KvKey => [...root, pk, 0];
  let start: Deno.KvKey | null = o.after === undefined ? null : past(o.after);
  let wrapped = start === null;
  const taken = new Set<string>();
  while (out.length < o.projects) {
    const [first]: Deno.KvEntry<StoredEvent>[] = await Array.fromAsync(
      kv.list<StoredEvent>(start ? { prefix: root, start } : { prefix: root }, { limit: 1 }),
    );
    if (!first || taken.has(first.value.pk)) {
      if (wrapped) break;
      [wrapped, start] = [true, null]; // round to the first project
      continue;
    }
    const pk: string = first.value.pk;
    taken.add(pk);
    const events: StoredEvent[] = [];
    for await (
      const e of kv.list<StoredEvent>({ prefix: [...root, pk] }, { limit: o.perProject })
    ) events.push(e.value);
    out.push(events);
    start = past(pk);
  }
  return out;
}

/**
 * Replaces an event row by its deliveries (one per endpoint, due now, each in its endpoint's
 * queue) in one commit checked on the row, so an event is fanned out once even with two workers.
 */
export function fanOut(
  kv: Deno.Kv,
  event: StoredEvent,
  o: { endpointIds: string[]; body: (deliveryId: string) => string; now: number },
): Promise<boolean> {
  return retryAtomic("fan out a webhook event", async () => {
    const row = await kv.get(outboxKeys.event(event.pk, event.id));
    if (!row.value) return false;
    const schedules = await kv.getMany<Schedule[]>(
      o.endpointIds.map((id) => scheduleKeys.schedule(event.pk, id)),
    );
    let op = kv.atomic().check(row).delete(row.key);
    o.endpointIds.forEach((endpointId, i) => {
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
      op = touchSchedule(op, schedules[i]!, {
        pk: event.pk,
        endpointId,
        at: o.now,
        throughBackoff: false,
      });
    });
    return (await op.commit()).ok ? true : RETRY;
  });
}

/** How long a delivery is kept once it is delivered or failed (its log, a manual retry). */
export const DELIVERY_KEEP_MS = 30 * 86_400_000;

function putDelivery(op: Deno.AtomicOperation, d: Delivery): Deno.AtomicOperation {
  const keep = d.state === "pending" ? {} : { expireIn: DELIVERY_KEEP_MS };
  op = op.set(outboxKeys.delivery(d.pk, d.endpointId, d.id), d, keep);
  return d.nextAt === null
    ? op
    : op.set(outboxKeys.queued(d.pk, d.endpointId, d.nextAt, d.id), true);
}

/** Drops `prior`'s queue entry and writes `next` (checked on `prior`) into `op`. */
function replaceDelivery(
  op: Deno.AtomicOperation,
  prior: Deno.KvEntry<Delivery>,
  next: Delivery,
): Deno.AtomicOperation {
  const p = prior.value;
  op = op.check(prior);
  if (p.nextAt !== null) op = op.delete(outboxKeys.queued(p.pk, p.endpointId, p.nextAt, p.id));
  return putDelivery(op, next);
}

/**
 * Queues a delivery to be sent now, through its endpoint's back-off (a test `ping`, made here;
 * or a manual retry of `prior`, whatever its state).
 */
export function sendNow(
  kv: Deno.Kv,
  d: Delivery & { nextAt: number },
  prior?: Deno.KvEntry<Delivery>,
): Promise<void> {
  return retryAtomic("queue a webhook delivery", async () => {
    const schedule = await kv.get<Schedule>(scheduleKeys.schedule(d.pk, d.endpointId));
    let op = prior ? replaceDelivery(kv.atomic(), prior, d) : putDelivery(kv.atomic(), d);
    op = touchSchedule(op, schedule, {
      pk: d.pk,
      endpointId: d.endpointId,
      at: d.nextAt,
      throughBackoff: true,
    });
    if ((await op.commit()).ok) return;
    if (!prior) return RETRY;
    const again = await getDelivery(kv, d.pk, d.endpointId, d.id);
    if (!again.value) return; // gone meanwhile (its project purged): nothing to send
    prior = again as Deno.KvEntry<Delivery>;
    return RETRY;
  });
}

/** An endpoint's queued deliveries whose attempt is due by `until`, in order (all: no `until`). */
export async function queuedFor(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; until?: number; limit: number },
): Promise<Queued[]> {
  const prefix = outboxKeys.queue(pk, o.endpointId);
  const out: Queued[] = [];
  for await (
    const e of kv.list(
      o.until === undefined
        ? { prefix }
        : { start: prefix, end: [...prefix, instantKey(o.until + 1)] },
      { limit: o.limit },
    )
  ) {
    const [, , , at, id] = e.key as [string, string, string, string, string];
    out.push({ id, at: Date.parse(at) });
  }
  return out;
}

/**
 * Sets when the worker looks at an endpoint next, once it has worked on it: at `pauseUntil`
 * after a failure (its back-off; `streak` failures in a row), else when its earliest queued
 * delivery is due (at once when some are due already), but not before `backInLine` when given
 * (its turn ended with deliveries left: endpoints due before then go first); the schedule goes
 * when the queue is empty. Checked on the schedule row: a delivery queued meanwhile makes it
 * look again.
 */
export function reschedule(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; pauseUntil: number | null; streak: number; backInLine?: number },
): Promise<Schedule | null> {
  return retryAtomic("schedule a webhook endpoint", async () => {
    const entry = await getSchedule(kv, pk, o.endpointId);
    const [first] = await queuedFor(kv, pk, { endpointId: o.endpointId, limit: 1 });
    const cur = entry.value;
    let op = kv.atomic().check(entry);
    if (cur) op = op.delete(scheduleKeys.wake(cur.at, pk, o.endpointId));
    if (!first) {
      const res = await op.delete(entry.key).commit();
      return res.ok ? null : RETRY;
    }
    const until = o.pauseUntil ?? 0;
    const next = { at: Math.max(first.at, until, o.backInLine ?? 0), streak: o.streak, until };
    op = op.set(entry.key, next).set(scheduleKeys.wake(next.at, pk, o.endpointId), true);
    return (await op.commit()).ok ? next : RETRY;
  });
}

/**
 * Moves up to `limit` entries of the previous version's index of due deliveries into their
 * endpoints' queues; answers how many it moved (0 once there are none).
 */
export async function moveLegacyDue(kv: Deno.Kv, limit: number): Promise<number> {
  let moved = 0;
  for await (const e of kv.list({ prefix: outboxKeys.legacyDue() }, { limit })) {
    const [, , pk, endpointId, id] = e.key as [string, string, string, string, string];
    await retryAtomic("move a webhook delivery", async () => {
      const [d, schedule] = await Promise.all([
        getDelivery(kv, pk, endpointId, id),
        getSchedule(kv, pk, endpointId),
      ]);
      let op = kv.atomic().delete(e.key);
      if (d.value?.state === "pending" && d.value.nextAt !== null) {
        op = touchSchedule(putDelivery(op.check(d), d.value), schedule, {
          pk,
          endpointId,
          at: d.value.nextAt,
          throughBackoff: true,
        });
      }
      return (await op.commit()).ok ? undefined : RETRY;
    });
    moved++;
  }
  return moved;
}

/**
 * Drops a queue entry its delivery no longer stands behind (gone, finished or moved), checked on
 * the delivery as read.
 */
export async function dropQueued(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; q: Queued; entry: Deno.KvEntryMaybe<Delivery> },
): Promise<void> {
  await kv.atomic().check(o.entry).delete(outboxKeys.queued(pk, o.endpointId, o.q.at, o.q.id))
    .commit();
}

export async function getDelivery(kv: Deno.Kv, pk: string, endpointId: string, id: string) {
  return await kv.get<Delivery>(outboxKeys.delivery(pk, endpointId, id));
}

/**
 * Writes a delivery's new state (an attempt recorded, the next time or the end) in place of its
 * old queue entry, checked on the record read.
 */
export async function saveDelivery(
  kv: Deno.Kv,
  prior: Deno.KvEntry<Delivery>,
  next: Delivery,
): Promise<boolean> {
  return (await replaceDelivery(kv.atomic(), prior, next).commit()).ok;
}

/** One page of an endpoint's deliveries, newest first, with the next page's cursor. */
export async function listDeliveries(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; limit: number; cursor?: string | undefined },
): Promise<{ items: Delivery[]; nextCursor: string | null }> {
  const page = await listPage<Delivery>(kv, {
    prefix: outboxKeys.listDeliveries(pk, o.endpointId),
  }, { ...o, reverse: true });
  return { items: page.entries.map((e) => e.value), nextCursor: page.nextCursor };
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
