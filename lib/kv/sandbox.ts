/**
 * The sandbox payment provider's own store: its Stripe-shaped objects, idempotency keys, the due
 * index its clock reads (open sessions and live subscriptions only) and a customer → subscription
 * index for the portal. Its events waiting for delivery are `sandbox_outbox.ts`.
 */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { ConflictError, NotFoundError } from "@/lib/errors.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import { keepIn, type KeptEvent } from "@/lib/kv/sandbox_outbox.ts";

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
};

/** What a call with an idempotency key makes, staged for one commit (`SandboxStore.once`). */
export interface Staged {
  /** What the key stands for from now on (the object's id). */
  id: string;
  objects: { kind: SandboxKind; id: string; value: unknown }[];
  /** An open checkout's expiry, for the clock. */
  due?: { kind: DueKind; atSeconds: number; id: string };
  events?: KeptEvent[];
}

/** An object made once per idempotency key: its id, and the events the call that made it kept. */
export interface Made {
  id: string;
  events: KeptEvent[];
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

/** How long an idempotency key of the sandbox answers with its first object (Stripe: 24 h). */
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;

/** Adds a subscription's writes to a commit: the object, its due entry (moved from `before`), its customer pointer. */
function setSubscription(
  op: Deno.AtomicOperation,
  sub: StripeSubscription,
  account: string | null,
  before: number | null,
) {
  const after = dueOf(sub);
  op.set(sandboxKeys.object("subscription", sub.id), { ...sub, account })
    .set(sandboxKeys.byCustomer(sub.customer, sub.id), true);
  if (before !== null && before !== after) {
    op.delete(sandboxKeys.due("subscription", before, sub.id));
  }
  if (after !== null) op.set(sandboxKeys.due("subscription", after, sub.id), true);
}

/** The sandbox's objects on one KV. */
export class SandboxStore {
  #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** An object by kind and id; 404 when there is none. */
  async get<T>(kind: SandboxKind, id: string): Promise<T> {
    const v = await this.find<T>(kind, id);
    if (!v) throw new NotFoundError(`No sandbox ${kind} ${id}`);
    return v;
  }

  /** An object by kind and id, or null. */
  async find<T>(kind: SandboxKind, id: string): Promise<T | null> {
    return (await this.#kv.get<T>(sandboxKeys.object(kind, id))).value;
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

  /** A subscription with the versionstamp to check a change of it against; null if none. */
  async getSubscription(
    id: string,
  ): Promise<{ stored: StoredSubscription; versionstamp: string } | null> {
    const cur = await this.#kv.get<StoredSubscription>(sandboxKeys.object("subscription", id));
    return cur.value ? { stored: cur.value, versionstamp: cur.versionstamp! } : null;
  }

  /**
   * Stores a subscription with its due entry and customer pointer, and `events` (what it tells
   * of), in one commit (again if another write came between its read and its commit). With
   * `expected` (the versionstamp the change was decided on) it is checked against that instead:
   * false, and nothing written, when the subscription changed meanwhile.
   */
  saveSubscription(
    sub: StripeSubscription,
    account: string | null,
    events: KeptEvent[] = [],
    expected?: string,
  ): Promise<boolean> {
    const key = sandboxKeys.object("subscription", sub.id);
    const attempt = async () => {
      const cur = await this.#kv.get<StoredSubscription>(key);
      if (expected !== undefined && cur.versionstamp !== expected) return false;
      const op = this.#kv.atomic().check(cur);
      setSubscription(op, sub, account, cur.value ? dueOf(cur.value) : null);
      keepIn(op, events);
      return (await op.commit()).ok;
    };
    if (expected !== undefined) return attempt();
    return retryAtomic("save the sandbox subscription", async () => (await attempt()) || RETRY);
  }

  /**
   * Changes a subscription as `change` decides on its latest state (read, decide, commit checked,
   * again when it changed meanwhile): `change` answers the next state and its events, or null to
   * leave it as it is. Answers the subscription as it now is, and the events kept with it (none
   * when it was left as it is).
   */
  changeSubscription(
    id: string,
    change: (cur: StoredSubscription) => { next: StripeSubscription; events: KeptEvent[] } | null,
  ): Promise<{ next: StripeSubscription; events: KeptEvent[] }> {
    return retryAtomic("change the sandbox subscription", async () => {
      const cur = await this.getSubscription(id);
      if (!cur) throw new NotFoundError(`No sandbox subscription ${id}`);
      const { account, ...rest } = cur.stored;
      const decided = change(cur.stored);
      if (!decided) return { next: rest, events: [] };
      const saved = await this.saveSubscription(
        decided.next,
        account,
        decided.events,
        cur.versionstamp,
      );
      return saved ? decided : RETRY;
    });
  }

  /**
   * Makes objects once per idempotency key, as Stripe's keys do: `make` stages them (it may read;
   * it is asked again if another call with the key commits first), and the objects, their
   * events, an open checkout's due entry and the key are one commit. Answers the id the key
   * stands for (the first call's, whoever asks again, two at once included) and the events this
   * call kept (none when the key was used before).
   */
  once(idempotencyKey: string, make: () => Staged | Promise<Staged>): Promise<Made> {
    const idemKey = sandboxKeys.object("idem", idempotencyKey);
    return retryAtomic("make the sandbox object", async () => {
      const prior = await this.#kv.get<string>(idemKey);
      if (prior.value) return { id: prior.value, events: [] };
      const m = await make();
      const op = this.#kv.atomic().check(prior)
        .set(idemKey, m.id, { expireIn: IDEMPOTENCY_TTL_MS });
      for (const o of m.objects) op.set(sandboxKeys.object(o.kind, o.id), o.value);
      if (m.due) op.set(sandboxKeys.due(m.due.kind, m.due.atSeconds, m.due.id), true);
      const events = m.events ?? [];
      keepIn(op, events);
      return (await op.commit()).ok ? { id: m.id, events } : RETRY;
    });
  }

  /**
   * Adds `amount` to what was refunded of a payment, once per idempotency key, checked against
   * `max` (what was paid), with the events `made` gives for the new total, in one commit: the
   * refund's id (the first one's, when the key was used before) and the events this call kept,
   * or null when it would pass `max` (nothing changes).
   */
  refundOnce(
    idempotencyKey: string,
    paymentIntent: string,
    o: { amount: number; max: number; made: (total: number) => Made },
  ): Promise<Made | null> {
    const idemKey = sandboxKeys.object("idem", idempotencyKey);
    const key = sandboxKeys.object("refunded", paymentIntent);
    return retryAtomic("record the sandbox refund", async () => {
      const [prior, cur] = await this.#kv.getMany<[string, number]>([idemKey, key]);
      if (prior.value) return { id: prior.value, events: [] };
      const total = (cur.value ?? 0) + o.amount;
      if (total > o.max) return null;
      const m = o.made(total);
      const op = this.#kv.atomic().check(prior).check(cur)
        .set(key, total)
        .set(idemKey, m.id, { expireIn: IDEMPOTENCY_TTL_MS });
      keepIn(op, m.events);
      return (await op.commit()).ok ? m : RETRY;
    });
  }

  /**
   * Moves a session from `from` to `to` with `patch`, checked: null when it was not in `from`
   * (finished meanwhile). A finished session leaves the due index and is kept a while only.
   * `redeem`: the promotion code the session applies, redeemed in the same commit (as Stripe
   * counts `times_redeemed`); one redeemed `max_redemptions` times already refuses the move with
   * a `ConflictError`, changing nothing. In the same commit: `customer` and `subscription` (new
   * objects the move makes) and the events `events` makes of the moved session.
   */
  claimSession<S extends StoredSession>(
    id: string,
    o: {
      from: string;
      to: string;
      patch: Partial<S>;
      redeem?: string | undefined;
      customer?: { id: string; value: unknown };
      subscription?: { sub: StripeSubscription; account: string | null };
      events: (next: S) => KeptEvent[];
    },
  ): Promise<{ session: S; events: KeptEvent[] } | null> {
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
      if (o.customer) op = op.set(sandboxKeys.object("customer", o.customer.id), o.customer.value);
      if (o.subscription) setSubscription(op, o.subscription.sub, o.subscription.account, null);
      const events = o.events(next);
      keepIn(op, events);
      return (await op.commit()).ok ? { session: next, events } : RETRY;
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
