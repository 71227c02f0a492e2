/** Customers of a project: the developer's own user id (or cus_…), unique per project. */
import { addEvents, type OutboxEvent } from "@/lib/kv/webhook_outbox.ts";
import { getManyChunked, listPage, RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import {
  projectStatKeys,
  readStatMoves,
  type StatDelta,
  writeStatMoves,
} from "@/lib/kv/project_stats.ts";
import { eventKeys, withClaim } from "@/lib/kv/events.ts";
import { bumpEpoch } from "@/lib/kv/project_epochs.ts";
import { InvalidRequestError } from "@/lib/errors.ts";
import { type Project, projectKeys } from "@/lib/kv/projects.ts";

export interface Subscription {
  id: string;
  tierId: string;
  /** The provider price the subscription is on. */
  priceId: string;
  /** What it brings per month in minor units (yearly / 12), for MRR. */
  monthlyAmount: number;
  currency: string;
  status: "active" | "trialing" | "past_due" | "canceled" | "incomplete" | "unpaid";
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
  /** Provider's timestamp of the state we hold; newer events win. */
  updatedAt: number;
  /**
   * When the provider created it (seconds): of two different subscriptions, the later purchase
   * is the customer's (records written before this field have none).
   */
  createdAt?: number;
}

export interface Customer {
  id: string;
  pk: string;
  email: string | null;
  name: string | null;
  /** Given and family names, when the caller sent them apart (the original SDK does). */
  firstName?: string | null;
  lastName?: string | null;
  /** Always null since customer passwords are not used (kept for records made before). */
  passwordHash: string | null;
  /** Stable id of the tier the customer is on (null: the project's free tier). */
  tierId: string | null;
  subscription: Subscription | null;
  /** The customer's id at the payment provider (cus_…), once a checkout made one. */
  providerCustomerId: string | null;
  metadata: Record<string, string>;
  listId: string;
  createdAt: string;
}

export const customerKeys = {
  byId: (pk: string, id: string) => ["customers", pk, id] as const,
  byCreated: (pk: string, listId: string) => ["customers_by_created", pk, listId] as const,
  listByCreated: (pk: string) => ["customers_by_created", pk] as const,
  /** Email → customer, for the dashboard's prefix search. */
  byEmail: (pk: string, email: string, id: string) =>
    ["customers_by_email", pk, email, id] as const,
  listByEmail: (pk: string) => ["customers_by_email", pk] as const,
  /** Set once the email index holds every customer of the project (older ones backfilled). */
  emailIndexBuilt: (pk: string) => ["customers_by_email_built", pk] as const,
  /** A subscription that ended with its customer's deletion: its later events are ignored. */
  endedSubscription: (pk: string, subscriptionId: string) =>
    ["ended_subscriptions", pk, subscriptionId] as const,
};

/** Creates a customer (unique per project) and counts it; false when the id is taken. */
export async function createCustomer(
  kv: Deno.Kv,
  c: Customer,
  o: { events?: OutboxEvent[]; now: number },
): Promise<boolean> {
  const res = addEvents(kv.atomic(), c.pk, { events: o.events ?? [], now: o.now })
    .check({ key: customerKeys.byId(c.pk, c.id), versionstamp: null })
    .set(customerKeys.byId(c.pk, c.id), c)
    .set(customerKeys.byCreated(c.pk, c.listId), c.id)
    .sum(projectStatKeys.customersCreated(c.pk), 1n)
    .sum(projectStatKeys.day(c.pk, c.createdAt.slice(0, 10), "customers"), 1n);
  return (await (c.email ? res.set(customerKeys.byEmail(c.pk, c.email, c.id), true) : res)
    .commit()).ok;
}

/** Moves a customer's email index entry when its email changes (part of the caller's commit). */
function moveEmail(op: Deno.AtomicOperation, before: Customer | null, after: Customer | null) {
  const from = before?.email ?? null;
  const to = after?.email ?? null;
  if (from === to) return op;
  if (from) op = op.delete(customerKeys.byEmail(before!.pk, from, before!.id));
  if (to) op = op.set(customerKeys.byEmail(after!.pk, to, after!.id), true);
  return op;
}

export async function getCustomer(kv: Deno.Kv, pk: string, id: string): Promise<Customer | null> {
  return (await kv.get<Customer>(customerKeys.byId(pk, id))).value;
}

/** What to write for a subscription change, decided on the customer as it is now. */
export type SubscriptionDecision =
  | { apply: true; next: Customer; deltas: StatDelta[] }
  | { apply: false };

/**
 * Commits a provider subscription's change to one customer: the customer, the aggregates the
 * change moves and (when given) the event claim, in one commit checked on everything read.
 * `decide` sees the customer as it is at each attempt. A claimed event is "duplicate"; a
 * subscription that ended with its customer's deletion is "stale" for good.
 */
export function commitSubscription(
  kv: Deno.Kv,
  o: {
    pk: string;
    customerId: string;
    subscriptionId: string;
    eventId?: string | undefined;
    now: number;
    decide: (c: Customer) => SubscriptionDecision;
    /**
     * The tier a paying subscription puts the customer on: the change is committed only while the
     * project still has it, checked on the project's record (a tier deleted meanwhile: "tier_gone")
     */
    tierId?: string | undefined;
    /** Outbound-webhook events of the change, written in its commit. */
    events?: (before: Customer, after: Customer) => OutboxEvent[];
  },
): Promise<{
  outcome: "applied" | "stale" | "duplicate" | "no_customer" | "tier_gone";
  customer?: Customer;
}> {
  return retryAtomic("apply the subscription", async () => {
    const [cust, ended, claim] = await kv.getMany<unknown[]>([
      customerKeys.byId(o.pk, o.customerId),
      customerKeys.endedSubscription(o.pk, o.subscriptionId),
      ...(o.eventId ? [eventKeys.claim(o.eventId)] : []),
    ]);
    if (claim?.value) return { outcome: "duplicate" as const };
    const c = cust!.value as Customer | null;
    let op = kv.atomic().check(ended!);
    if (o.eventId) op = withClaim(op, o.eventId, o.now);
    const decision = c && !ended!.value ? o.decide(c) : { apply: false as const };
    if (!decision.apply) {
      const outcome = c ? "stale" as const : "no_customer" as const;
      return (await op.commit()).ok ? { outcome } : RETRY;
    }
    if (o.tierId !== undefined) {
      const proj = await kv.get<Project>(projectKeys.byPk(o.pk));
      if (!proj.value?.tiers.some((t) => t.id === o.tierId)) {
        return { outcome: "tier_gone" as const };
      }
      op = op.check(proj);
    }
    const moves = await readStatMoves(kv, decision.deltas);
    op = writeStatMoves(bumpEpoch(op.check(cust!).set(cust!.key, decision.next), o.pk), moves);
    op = moveEmail(op, c, decision.next);
    op = addEvents(op, o.pk, { events: o.events?.(c!, decision.next) ?? [], now: o.now });
    return (await op.commit()).ok
      ? { outcome: "applied" as const, customer: decision.next }
      : RETRY;
  });
}

/** How long an ended subscription's events are recognised and ignored after its customer left. */
const ENDED_TTL_MS = 400 * 86_400_000;

/**
 * Deletes a customer's record, its list entry and what it counted (the `deltas` of its
 * subscription, decided on the record as it is) in one checked commit, and marks its
 * subscription ended, so later events about it change nothing, even for a new customer with the
 * same id. False when there was no such customer.
 */
export function removeCustomer(
  kv: Deno.Kv,
  o: {
    pk: string;
    id: string;
    deltas: (c: Customer) => StatDelta[];
    events?: (c: Customer) => OutboxEvent[];
    now: number;
  },
): Promise<boolean> {
  return retryAtomic("delete the customer", async () => {
    const cur = await kv.get<Customer>(customerKeys.byId(o.pk, o.id));
    if (!cur.value) return false;
    const sub = cur.value.subscription;
    let op = bumpEpoch(kv.atomic().check(cur), o.pk)
      .delete(cur.key)
      .delete(customerKeys.byEmail(o.pk, cur.value.email ?? "", o.id))
      .delete(customerKeys.byCreated(o.pk, cur.value.listId))
      .sum(projectStatKeys.customersDeleted(o.pk), 1n);
    if (sub) {
      op = op.set(customerKeys.endedSubscription(o.pk, sub.id), { customerId: o.id }, {
        expireIn: ENDED_TTL_MS,
      });
    }
    const moves = await readStatMoves(kv, o.deltas(cur.value));
    op = addEvents(op, o.pk, { events: o.events?.(cur.value) ?? [], now: o.now });
    return (await writeStatMoves(op, moves).commit()).ok ? true : RETRY;
  });
}

/**
 * Read → check → set of one customer: `change` answers the next record, or null to leave it
 * as it is. Answers the record written, or null (no customer, or nothing to change).
 */
export function changeCustomer(
  kv: Deno.Kv,
  o: { pk: string; id: string; what: string; change: (c: Customer) => Customer | null },
): Promise<Customer | null> {
  return retryAtomic(o.what, async () => {
    const cur = await kv.get<Customer>(customerKeys.byId(o.pk, o.id));
    const next = cur.value ? o.change(cur.value) : null;
    if (!next) return null;
    const op = moveEmail(
      bumpEpoch(kv.atomic().check(cur).set(cur.key, next), o.pk),
      cur.value,
      next,
    );
    return (await op.commit()).ok ? next : RETRY;
  });
}

/**
 * One page of the customers whose id or email starts with `prefix`: those found by id first,
 * then those found by email alone, `limit` at most, with a cursor for the next page (null at the
 * end; a page may hold fewer than `limit` and still have one). The cursor is the phase (`i` for
 * ids, `e` for emails) and Deno KV's cursor in it. The email index is built for a project's older
 * customers on its first search (one pass, then kept).
 */
export async function searchCustomers(
  kv: Deno.Kv,
  pk: string,
  o: { prefix: string; limit: number; cursor?: string | undefined },
): Promise<{ items: Customer[]; nextCursor: string | null }> {
  await buildEmailIndex(kv, pk);
  const phase = o.cursor === undefined ? "i" : o.cursor[0];
  if (phase !== "i" && phase !== "e") {
    throw new InvalidRequestError("Malformed pagination cursor", [
      { field: "cursor", message: "not a cursor this server gave out" },
    ]);
  }
  const at = o.cursor?.slice(1) || undefined;
  if (phase === "e") return await emailMatches(kv, pk, { ...o, cursor: at });
  const byId = await listPage<Customer>(kv, {
    start: customerKeys.byId(pk, o.prefix),
    end: customerKeys.byId(pk, o.prefix + "\u{10FFFF}"),
  }, { limit: o.limit, cursor: at });
  const items = byId.entries.map((e) => e.value);
  if (byId.nextCursor) return { items, nextCursor: `i${byId.nextCursor}` };
  // the ids are done: the emails fill the rest of the page
  const more = await emailMatches(kv, pk, { prefix: o.prefix, limit: o.limit - items.length });
  return { items: [...items, ...more.items], nextCursor: more.nextCursor };
}

/** The email phase of `searchCustomers`: customers whose id does not start with the prefix. */
async function emailMatches(
  kv: Deno.Kv,
  pk: string,
  o: { prefix: string; limit: number; cursor?: string | undefined },
): Promise<{ items: Customer[]; nextCursor: string | null }> {
  const email = o.prefix.toLowerCase();
  const page = await listPage<true>(kv, {
    start: [...customerKeys.listByEmail(pk), email],
    end: [...customerKeys.listByEmail(pk), email + "\u{10FFFF}"],
  }, o);
  const ids = page.entries.map((e) => e.key[3] as string)
    .filter((id) => !id.startsWith(o.prefix)); // those the id phase found already
  const got = await getManyChunked<Customer>(kv, ids.map((id) => customerKeys.byId(pk, id)));
  // an entry the backfill wrote just before the email changed is skipped here
  const items = got.flatMap((g) => g.value?.email?.startsWith(email) ? [g.value] : []);
  return { items, nextCursor: page.nextCursor && `e${page.nextCursor}` };
}

async function buildEmailIndex(kv: Deno.Kv, pk: string): Promise<void> {
  if ((await kv.get(customerKeys.emailIndexBuilt(pk))).value) return;
  for await (const e of kv.list<Customer>({ prefix: ["customers", pk] })) {
    if (e.value.email) await kv.set(customerKeys.byEmail(pk, e.value.email, e.value.id), true);
  }
  await kv.set(customerKeys.emailIndexBuilt(pk), true);
}

/** One page of a project's customers in creation order, with an opaque cursor. */
export async function listCustomers(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string },
): Promise<{ items: Customer[]; nextCursor: string | null }> {
  const page = await listPage<string>(kv, { prefix: customerKeys.listByCreated(pk) }, opts);
  const got = await getManyChunked<Customer>(
    kv,
    page.entries.map((e) => customerKeys.byId(pk, e.value)),
  );
  return { items: got.flatMap((g) => (g.value ? [g.value] : [])), nextCursor: page.nextCursor };
}
