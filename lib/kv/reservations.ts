/** Stock reservations of store checkouts: pending until paid (a sale) or expired (released). */
import { addEvents, type OutboxEvent } from "@/lib/kv/webhook_outbox.ts";
import { addToBuyer, type Order, orderKeys } from "@/lib/kv/orders.ts";
import { getManyChunked, RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { type Project, projectKeys } from "@/lib/kv/projects.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { eventKeys, withClaim } from "@/lib/kv/events.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { bumpEpoch } from "@/lib/kv/project_epochs.ts";
import { CART_KEY_TTL_MS, type CartKey, cartKeyKeys } from "@/lib/kv/cart_keys.ts";

export interface ReservationLine {
  tierId: string;
  name: string;
  quantity: number;
  unitAmount: number;
  currency: string;
  /** Whether stock was taken for it (finite inventory at reservation time). */
  counted: boolean;
}

export interface Reservation {
  id: string;
  pk: string;
  lines: ReservationLine[];
  status: "pending" | "completed" | "released";
  sessionId: string | null;
  email: string | null;
  /** The buyer's name when the cart gave one (absent on holds made before it was kept). */
  name?: string | null;
  amountTotal: number;
  currency: string;
  createdAt: string;
  /** When the hold ends (ms epoch); the sweep releases it after this. */
  expiresAt: number;
  /** Hash of the client address that made the hold (bounded per client while pending). */
  client?: string | null;
}

export const reservationKeys = {
  byId: (pk: string, id: string) => ["reservations", pk, id] as const,
  bySession: (sessionId: string) => ["reservations_by_session", sessionId] as const,
  /** Due index: a scan up to "now" finds only holds that should have ended. */
  due: (expiresAt: number, pk: string, id: string) =>
    ["reservations_due", new Date(expiresAt).toISOString(), pk, id] as const,
  listDue: () => ["reservations_due"] as const,
  /** Pending holds of one client address in one project (a number, changed with the holds). */
  heldByClient: (pk: string, client: string) => ["holds_by_client", pk, client] as const,
};

/**
 * Takes stock and records a hold in one checked commit: `decide` sees the project and how many
 * unpaid holds the client has now, and answers the project with its stock taken and the
 * reservation (or throws to refuse: nothing is written). The client's hold count, the project,
 * the reservation and its due entry change together.
 */
export function reserveStock(
  kv: Deno.Kv,
  o: {
    pk: string;
    client: string;
    decide: (p: Project, holds: number) => { project: Project; reservation: Reservation };
    /** Outbound-webhook events of the stock change (a product sold out), in its commit. */
    events?: (before: Project, after: Project) => OutboxEvent[];
    now: number;
    /**
     * A cart's Idempotency-Key, claimed in the hold's commit: when it is taken already, nothing is
     * held and what it holds is answered (`taken`).
     */
    claim?: { pk: string; key: string; value: (r: Reservation) => CartKey } | null;
  },
): Promise<{ project: Project; reservation: Reservation } | { taken: CartKey }> {
  return retryAtomic("reserve stock", async () => {
    const keys: Deno.KvKey[] = [
      projectKeys.byPk(o.pk),
      reservationKeys.heldByClient(o.pk, o.client),
    ];
    if (o.claim) keys.push(cartKeyKeys.byKey(o.claim.pk, o.claim.key));
    const [cur, held, claimed] = await kv.getMany<unknown[]>(keys) as [
      Deno.KvEntryMaybe<Project>,
      Deno.KvEntryMaybe<number>,
      Deno.KvEntryMaybe<CartKey> | undefined,
    ];
    if (!cur.value) throw new NotFoundError("No such project");
    if (claimed?.value) return { taken: claimed.value };
    const d = o.decide(cur.value, held.value ?? 0);
    const r = d.reservation;
    const withEvents = addEvents(kv.atomic(), o.pk, {
      events: o.events?.(cur.value, d.project) ?? [],
      now: o.now,
    });
    let op = bumpEpoch(withEvents.check(cur, held), o.pk)
      .set(held.key, (held.value ?? 0) + 1)
      .set(cur.key, d.project)
      .set(reservationKeys.byId(o.pk, r.id), r)
      .set(reservationKeys.due(r.expiresAt, o.pk, r.id), true);
    if (o.claim && claimed) {
      op = op.check(claimed).set(claimed.key, o.claim.value(r), { expireIn: CART_KEY_TTL_MS });
    }
    const res = await op.commit();
    return res.ok ? d : RETRY;
  });
}

/** Records the checkout session of a reservation, and the session → reservation pointer. */
export function linkReservationSession(
  kv: Deno.Kv,
  o: { pk: string; id: string; sessionId: string },
): Promise<void> {
  return retryAtomic("link the checkout", async () => {
    const cur = await kv.get<Reservation>(reservationKeys.byId(o.pk, o.id));
    if (!cur.value) return undefined;
    const res = await kv.atomic().check(cur)
      .set(cur.key, { ...cur.value, sessionId: o.sessionId })
      .set(reservationKeys.bySession(o.sessionId), { pk: o.pk, id: o.id }, {
        expireIn: 90 * 86_400_000,
      })
      .commit();
    return res.ok ? undefined : RETRY;
  });
}

/** What settling a reservation writes: its new state, the project's stock, and a sale. */
export interface Settlement {
  reservation: Reservation;
  /** The project with its stock changed, or null when the stock stays as it is. */
  project: Project | null;
  sale: { amount: number } | null;
  /** The order a sale makes (written with it). */
  order?: Order | null;
}

/**
 * Settles a reservation (paid or released) in one checked commit with the event claim (when
 * given), its stock, the client's hold count and the sales aggregates. `decide` sees the
 * reservation and project as they are and answers the settlement, or null for no change.
 */
export function settleReservation(
  kv: Deno.Kv,
  o: {
    pk: string;
    id: string;
    eventId?: string | undefined;
    now: number;
    decide: (r: Reservation, p: Project) => Settlement | null;
    /** Outbound-webhook events of the settlement, written in its commit. */
    events?: (d: Settlement, before: Project) => OutboxEvent[];
  },
): Promise<{ outcome: "duplicate" | "unchanged" | "settled"; project?: Project }> {
  return retryAtomic("settle the reservation", async () => {
    const [r, p, claim] = await kv.getMany<unknown[]>([
      reservationKeys.byId(o.pk, o.id),
      projectKeys.byPk(o.pk),
      ...(o.eventId ? [eventKeys.claim(o.eventId)] : []),
    ]);
    if (claim?.value) return { outcome: "duplicate" as const };
    const resv = r!.value as Reservation | null;
    const proj = p!.value as Project | null;
    let op = kv.atomic();
    if (o.eventId) op = withClaim(op, o.eventId, o.now);
    const d = resv && proj ? o.decide(resv, proj) : null;
    if (!resv || !d) return (await op.commit()).ok ? { outcome: "unchanged" as const } : RETRY;
    // the hold stops counting against its client once it is no longer pending
    const held = resv.client && resv.status === "pending" && d.reservation.status !== "pending"
      ? await kv.get<number>(reservationKeys.heldByClient(o.pk, resv.client))
      : null;
    op = op.check(r!, p!)
      .set(r!.key, d.reservation)
      .delete(reservationKeys.due(resv.expiresAt, o.pk, o.id));
    if (held) op = op.check(held).set(held.key, Math.max(0, (held.value ?? 0) - 1));
    if (d.project) op = bumpEpoch(op.set(p!.key, d.project), o.pk);
    if (d.sale) {
      op = op.sum(projectStatKeys.sales(o.pk), 1n)
        .sum(projectStatKeys.revenue(o.pk), BigInt(d.sale.amount))
        .sum(
          projectStatKeys.day(o.pk, new Date(o.now).toISOString().slice(0, 10), "revenue"),
          BigInt(d.sale.amount),
        );
    }
    if (d.order) op = addToBuyer(op.set(orderKeys.byId(o.pk, d.order.id), d.order), d.order);
    op = addEvents(op, o.pk, { events: o.events?.(d, proj!) ?? [], now: o.now });
    if (!(await op.commit()).ok) return RETRY;
    return { outcome: "settled" as const, ...(d.project ? { project: d.project } : {}) };
  });
}

export async function getReservation(
  kv: Deno.Kv,
  pk: string,
  id: string,
): Promise<Reservation | null> {
  return (await kv.get<Reservation>(reservationKeys.byId(pk, id))).value;
}

/** Holds due before `cutoffIso`, oldest first (the due index, never all reservations). */
export async function* dueReservations(
  kv: Deno.Kv,
  o: { cutoffIso: string; limit: number },
): AsyncGenerator<{ key: Deno.KvKey; pk: string; id: string }> {
  const iter = kv.list({
    start: reservationKeys.listDue(),
    end: [...reservationKeys.listDue(), o.cutoffIso],
  }, { limit: o.limit });
  for await (const e of iter) {
    const [, , pk, id] = e.key as [string, string, string, string];
    yield { key: e.key, pk, id };
  }
}

/**
 * A project's unpaid holds (a product deleted: their checkouts are expired). Reads the due index,
 * which holds only holds not yet swept (at most a day's), never the project's orders.
 */
export async function pendingHolds(kv: Deno.Kv, pk: string): Promise<Reservation[]> {
  const ids: string[] = [];
  for await (const e of kv.list({ prefix: reservationKeys.listDue() })) {
    const [, , duePk, id] = e.key as [string, string, string, string];
    if (duePk === pk) ids.push(id);
  }
  const got = await getManyChunked<Reservation>(kv, ids.map((id) => reservationKeys.byId(pk, id)));
  return got.flatMap((g) => g.value?.status === "pending" ? [g.value] : []);
}

/**
 * Holds a pending reservation until `until` (ms epoch): its checkout was completed with a
 * payment still on its way (bank debits take days), so it is neither a sale nor released yet.
 */
export function extendHold(
  kv: Deno.Kv,
  o: { pk: string; id: string; until: number },
): Promise<void> {
  return retryAtomic("extend the hold", async () => {
    const cur = await kv.get<Reservation>(reservationKeys.byId(o.pk, o.id));
    if (cur.value?.status !== "pending") return undefined;
    const res = await kv.atomic().check(cur)
      .set(cur.key, { ...cur.value, expiresAt: o.until })
      .delete(reservationKeys.due(cur.value.expiresAt, o.pk, o.id))
      .set(reservationKeys.due(o.until, o.pk, o.id), true)
      .commit();
    return res.ok ? undefined : RETRY;
  });
}

/** Drops a due entry whose reservation is settled or gone. */
export async function dropDueEntry(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  await kv.delete(key);
}
