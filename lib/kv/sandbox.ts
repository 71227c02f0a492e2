/**
 * The sandbox payment provider's own store: its Stripe-shaped objects, idempotency keys, the due
 * index its clock reads (open sessions and live subscriptions only) and a customer → subscription
 * index for the portal.
 */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { ConflictError, NotFoundError } from "@/lib/errors.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";

/** What redeeming a sandbox promotion code reads of it. */
interface RedeemablePromotionCode {
  code: string;
  max_redemptions?: number | null;
  times_redeemed?: number;
}

export type SandboxKind =
  | "account"
  | "product"
  | "price"
  | "checkout"
  | "subscription"
  | "portal"
  | "customer"
  | "idem"
  | "refunded"
  | "coupon"
  | "promotion_code"
  | "meter"
  | "meter_event"
  | "invoice";

export type DueKind = "checkout" | "subscription";

export const sandboxKeys = {
  object: (kind: SandboxKind, id: string) => ["sandbox", kind, id] as const,
  list: (kind: SandboxKind) => ["sandbox", kind] as const,
  /** What the clock must act on, by when (ISO): open sessions and live subscriptions only. */
  due: (kind: DueKind, atSeconds: number, id: string) =>
    ["sandbox_due", kind, new Date(atSeconds * 1000).toISOString(), id] as const,
  listDue: (kind: DueKind) => ["sandbox_due", kind] as const,
  /** A customer's subscriptions (pointers), for the portal. */
  byCustomer: (customer: string, subscriptionId: string) =>
    ["sandbox_by_customer", customer, subscriptionId] as const,
  listByCustomer: (customer: string) => ["sandbox_by_customer", customer] as const,
  backfilled: () => ["sandbox_due_backfilled"] as const,
  /** An event not delivered yet, by when it is tried next (ISO): the sandbox's redelivery. */
  outbox: (atMs: number, eventId: string) =>
    ["sandbox_outbox", new Date(atMs).toISOString(), eventId] as const,
  listOutbox: () => ["sandbox_outbox"] as const,
};

/** An event kept until its webhook delivery succeeds (Stripe retries for 3 days). */
export interface OutboxEntry {
  /** The event's JSON, signed again at each attempt. */
  payload: string;
  attempts: number;
  /** When it was first sent (ms). */
  firstAt: number;
}

/** A subscription as the sandbox keeps it: with the account it lives on. */
export type StoredSubscription = StripeSubscription & { account: string | null };

/** A checkout session as kept: at least its status and expiry (the rest is the provider's). */
interface StoredSession {
  id: string;
  status: string | null;
  expires_at?: number;
}

/** How long a finished (completed or expired) checkout session is kept for lookups. */
export const FINISHED_SESSION_TTL_MS = 7 * 86_400_000;

/** When the clock must next act on a subscription: its period end, unless it ended. */
function dueOf(sub: StripeSubscription): number | null {
  if (sub.status === "canceled") return null;
  return sub.items.data[0]?.current_period_end ?? null;
}

/** The sandbox's objects on one KV. */
export class SandboxStore {
  #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** An object by kind and id; 404 when there is none. */
  async get<T>(kind: SandboxKind, id: string): Promise<T> {
    const v = (await this.#kv.get<T>(sandboxKeys.object(kind, id))).value;
    if (!v) throw new NotFoundError(`No sandbox ${kind} ${id}`);
    return v;
  }

  async put(kind: SandboxKind, id: string, v: unknown, expireIn?: number): Promise<void> {
    await this.#kv.set(sandboxKeys.object(kind, id), v, expireIn ? { expireIn } : {});
  }

  /** The objects of a kind whose ids start with `idPrefix` (ids are strings, sorted). */
  async listByIdPrefix<T>(kind: SandboxKind, idPrefix: string): Promise<T[]> {
    const out: T[] = [];
    for await (
      const e of this.#kv.list<T>({
        start: sandboxKeys.object(kind, idPrefix),
        end: sandboxKeys.object(kind, idPrefix + "\uffff"),
      })
    ) out.push(e.value);
    return out;
  }

  /** Runs `create` once per idempotency key, like Stripe: a retry gets the first object's id. */
  async once(key: string, create: () => Promise<string>): Promise<string> {
    const prior = (await this.#kv.get<string>(sandboxKeys.object("idem", key))).value;
    if (prior) return prior;
    const id = await create();
    await this.#kv.set(sandboxKeys.object("idem", key), id, { expireIn: 24 * 3600_000 });
    return id;
  }

  /** Stores a subscription with its due entry and customer pointer, in one checked commit. */
  saveSubscription(sub: StripeSubscription, account: string | null): Promise<void> {
    const key = sandboxKeys.object("subscription", sub.id);
    return retryAtomic("save the sandbox subscription", async () => {
      const cur = await this.#kv.get<StoredSubscription>(key);
      const before = cur.value ? dueOf(cur.value) : null;
      const after = dueOf(sub);
      let op = this.#kv.atomic().check(cur)
        .set(key, { ...sub, account })
        .set(sandboxKeys.byCustomer(sub.customer, sub.id), true);
      if (before !== null && before !== after) {
        op = op.delete(sandboxKeys.due("subscription", before, sub.id));
      }
      if (after !== null) op = op.set(sandboxKeys.due("subscription", after, sub.id), true);
      return (await op.commit()).ok ? undefined : RETRY;
    });
  }

  /**
   * Adds `amount` to what was refunded of a payment, checked against `max` (what was paid): the
   * new total, or null when it would pass `max` (nothing changes).
   */
  addRefund(paymentIntent: string, o: { amount: number; max: number }): Promise<number | null> {
    const key = sandboxKeys.object("refunded", paymentIntent);
    return retryAtomic("record the sandbox refund", async () => {
      const cur = await this.#kv.get<number>(key);
      const total = (cur.value ?? 0) + o.amount;
      if (total > o.max) return null;
      return (await this.#kv.atomic().check(cur).set(key, total).commit()).ok ? total : RETRY;
    });
  }

  /** Stores a new open checkout session with its due entry (its expiry). */
  async createSession(session: StoredSession): Promise<void> {
    await this.#kv.atomic()
      .set(sandboxKeys.object("checkout", session.id), session)
      .set(sandboxKeys.due("checkout", session.expires_at!, session.id), true)
      .commit();
  }

  /**
   * Moves a session from `from` to `to` with `patch`, checked: null when it was not in `from`
   * (finished meanwhile). A finished session leaves the due index and is kept a while only.
   * `redeem`: the promotion code the session applies, redeemed in the same commit (as Stripe
   * counts `times_redeemed`); one redeemed `max_redemptions` times already refuses the move with
   * a `ConflictError`, changing nothing.
   */
  claimSession<S extends StoredSession>(
    id: string,
    o: { from: string; to: string; patch: Partial<S>; redeem?: string | undefined },
  ): Promise<S | null> {
    const promoKey = o.redeem ? sandboxKeys.object("promotion_code", o.redeem) : null;
    return retryAtomic("update the sandbox checkout", async () => {
      const [cur, promo] = await this.#kv.getMany<[S, RedeemablePromotionCode?]>(
        promoKey ? [sandboxKeys.object("checkout", id), promoKey] : [
          sandboxKeys.object("checkout", id),
        ],
      );
      if (!cur.value) throw new NotFoundError(`No sandbox checkout session ${id}`);
      if (cur.value.status !== o.from) return null;
      const next = { ...cur.value, ...o.patch, status: o.to } as S;
      let op = this.#kv.atomic().check(cur)
        .set(cur.key, next, { expireIn: FINISHED_SESSION_TTL_MS })
        .delete(sandboxKeys.due("checkout", cur.value.expires_at!, id));
      if (promoKey && promo?.value) {
        const used = promo.value.times_redeemed ?? 0;
        const max = promo.value.max_redemptions ?? null;
        if (max !== null && used >= max) {
          throw new ConflictError(`Promotion code ${promo.value.code} has been used up`);
        }
        op = op.check(promo).set(promoKey, { ...promo.value, times_redeemed: used + 1 });
      }
      return (await op.commit()).ok ? next : RETRY;
    });
  }

  /** Due entries up to `atSeconds`, oldest first: the ids the clock must look at. */
  async *due(
    kind: DueKind,
    o: { atSeconds: number; limit: number },
  ): AsyncGenerator<{ key: Deno.KvKey; id: string }> {
    const end = new Date((o.atSeconds + 1) * 1000).toISOString();
    const iter = this.#kv.list({
      start: sandboxKeys.listDue(kind),
      end: [...sandboxKeys.listDue(kind), end],
    }, { limit: o.limit });
    for await (const e of iter) yield { key: e.key, id: e.key[3] as string };
  }

  async dropDue(key: Deno.KvKey): Promise<void> {
    await this.#kv.delete(key);
  }

  /** A customer's subscriptions, through the customer index. */
  async subscriptionsOf(customer: string): Promise<StoredSubscription[]> {
    const out: StoredSubscription[] = [];
    for await (const ptr of this.#kv.list({ prefix: sandboxKeys.listByCustomer(customer) })) {
      const sub = (await this.#kv.get<StoredSubscription>(
        sandboxKeys.object("subscription", ptr.key[2] as string),
      )).value;
      if (sub) out.push(sub);
    }
    return out;
  }

  /** Every subscription in id order, after `startingAfter` (Stripe's list, for reconcile). */
  async *subscriptions(startingAfter?: string): AsyncGenerator<StoredSubscription> {
    const iter = this.#kv.list<StoredSubscription>({
      prefix: sandboxKeys.list("subscription"),
      ...(startingAfter
        ? { start: [...sandboxKeys.object("subscription", startingAfter), ""] }
        : {}),
    });
    for await (const e of iter) yield e.value;
  }

  /** Keeps an event before its first delivery, to be tried again at `retryAt` unless dropped. */
  async keepEvent(eventId: string, entry: OutboxEntry, retryAt: number): Promise<Deno.KvKey> {
    const key = sandboxKeys.outbox(retryAt, eventId);
    await this.#kv.set(key, entry);
    return key;
  }

  /** The events due for another delivery at `atMs`, oldest due first. */
  async *dueEvents(
    atMs: number,
    limit: number,
  ): AsyncGenerator<{ key: Deno.KvKey; entry: OutboxEntry; versionstamp: string }> {
    const iter = this.#kv.list<OutboxEntry>({
      start: sandboxKeys.listOutbox(),
      end: [...sandboxKeys.listOutbox(), new Date(atMs + 1).toISOString()],
    }, { limit });
    for await (const e of iter) {
      yield { key: e.key, entry: e.value, versionstamp: e.versionstamp };
    }
  }

  /** An event delivered (or given up on): out of the outbox. */
  async dropEvent(key: Deno.KvKey): Promise<void> {
    await this.#kv.delete(key);
  }

  /** Moves an event to a later attempt, unless it was dropped or moved meanwhile. */
  async retryEventLater(
    e: { key: Deno.KvKey; entry: OutboxEntry; versionstamp: string },
    retryAt: number,
  ): Promise<void> {
    await this.#kv.atomic()
      .check({ key: e.key, versionstamp: e.versionstamp })
      .delete(e.key)
      .set(sandboxKeys.outbox(retryAt, e.key[2] as string), {
        ...e.entry,
        attempts: e.entry.attempts + 1,
      })
      .commit();
  }

  /** Indexes what was stored before the due index existed (once per store). */
  async backfillDue(): Promise<void> {
    if ((await this.#kv.get(sandboxKeys.backfilled())).versionstamp) return;
    for await (const sub of this.subscriptions()) {
      const { account, ...rest } = sub;
      await this.saveSubscription(rest, account);
    }
    for await (
      const e of this.#kv.list<StoredSession>({ prefix: sandboxKeys.list("checkout") })
    ) {
      if (e.value.status === "open" && e.value.expires_at !== undefined) {
        await this.#kv.set(sandboxKeys.due("checkout", e.value.expires_at, e.value.id), true);
      }
    }
    await this.#kv.set(sandboxKeys.backfilled(), true);
  }
}
