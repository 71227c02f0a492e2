import { addEvents, type OutboxEvent } from "@/lib/kv/webhook_outbox.ts";
import { getManyChunked, listPage, RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { type Project, projectKeys } from "@/lib/kv/projects.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { bumpEpoch } from "@/lib/kv/project_epochs.ts";
/**
 * Orders of a Store project: a paid cart, written in the same commit that settles its hold
 * (lib/kv/reservations.ts). The id is the hold's (`res_<ulid>`), so keys sort by time.
 */
export interface OrderItem {
  /** The product's id at the payment provider when synced, else the product's own id. */
  productId: string;
  name: string;
  quantity: number;
  unitAmount: number;
  /** The product's own id and whether stock was taken for it (restocking gives it back). */
  tierId?: string;
  counted?: boolean;
}

export interface Order {
  id: string;
  pk: string;
  status: "paid" | "partially_refunded" | "refunded";
  email: string | null;
  name: string | null;
  items: OrderItem[];
  amountTotal: number;
  amountRefunded: number;
  currency: string;
  /** The provider's checkout session (refunds find the payment through it). */
  sessionId: string | null;
  createdAt: string;
  /** Whether a refund gave the items back to stock (once per order). */
  restocked?: boolean;
}

export const orderKeys = {
  byId: (pk: string, id: string) => ["orders", pk, id] as const,
  list: (pk: string) => ["orders", pk] as const,
  /** A buyer's orders (by the email they paid with), newest last. */
  byEmail: (pk: string, email: string, id: string) => ["orders_by_email", pk, email, id] as const,
  listByEmail: (pk: string, email: string) => ["orders_by_email", pk, email] as const,
  /** Store buyers by email: the last name and time seen, and KvU64 counts of orders and spend. */
  buyer: (pk: string, email: string) => ["buyers", pk, email] as const,
  listBuyers: (pk: string) => ["buyers", pk] as const,
  buyerOrders: (pk: string, email: string) => ["buyer_stats", pk, email, "orders"] as const,
  buyerSpent: (pk: string, email: string) => ["buyer_stats", pk, email, "spent"] as const,
};

export interface Buyer {
  email: string;
  name: string | null;
  lastOrderAt: string;
}

/** What a paid order adds to its buyer (part of the settling commit). */
export function addToBuyer(op: Deno.AtomicOperation, order: Order): Deno.AtomicOperation {
  if (!order.email) return op;
  const email = order.email.toLowerCase();
  const buyer: Buyer = { email, name: order.name, lastOrderAt: order.createdAt };
  return op.set(orderKeys.buyer(order.pk, email), buyer)
    .set(orderKeys.byEmail(order.pk, email, order.id), true)
    .sum(orderKeys.buyerOrders(order.pk, email), 1n)
    .sum(orderKeys.buyerSpent(order.pk, email), BigInt(order.amountTotal));
}

/** One page of a Store's buyers (by email) with their order count and spend. */
export async function listBuyers(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string | undefined },
) {
  const page = await listPage<Buyer>(kv, { prefix: orderKeys.listBuyers(pk) }, opts);
  const buyers = page.entries.map((e) => e.value);
  const stats = await getManyChunked<Deno.KvU64>(
    kv,
    buyers.flatMap((b) => [orderKeys.buyerOrders(pk, b.email), orderKeys.buyerSpent(pk, b.email)]),
  );
  const n = (i: number) => Number(stats[i]!.value?.value ?? 0n);
  const items = buyers.map((b, i) => ({ ...b, orders: n(2 * i), spent: n(2 * i + 1) }));
  return { items, nextCursor: page.nextCursor };
}

/** One page of a buyer's orders, newest first, with the next page's cursor (null at the end). */
export async function ordersOfBuyer(
  kv: Deno.Kv,
  pk: string,
  o: { email: string; limit: number; cursor?: string | undefined },
): Promise<{ items: Order[]; nextCursor: string | null }> {
  const page = await listPage(kv, { prefix: orderKeys.listByEmail(pk, o.email.toLowerCase()) }, {
    ...o,
    reverse: true,
  });
  const got = await getManyChunked<Order>(
    kv,
    page.entries.map((e) => orderKeys.byId(pk, e.key[3] as string)),
  );
  return { items: got.flatMap((g) => (g.value ? [g.value] : [])), nextCursor: page.nextCursor };
}

export async function getOrder(kv: Deno.Kv, pk: string, id: string): Promise<Order | null> {
  return (await kv.get<Order>(orderKeys.byId(pk, id))).value;
}

/** One page of a project's orders, newest first, with an opaque cursor. */
export async function listOrders(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<{ items: Order[]; nextCursor: string | null }> {
  const page = await listPage<Order>(kv, { prefix: orderKeys.list(pk) }, {
    ...opts,
    reverse: true,
  });
  return { items: page.entries.map((e) => e.value), nextCursor: page.nextCursor };
}

/**
 * Records a refund on an order in one checked commit: its refunded total (never lower than it
 * was: a late or repeated `charge.refunded` changes nothing), status, the project's refunded sum
 * and, with `restock`, the stock given back once. Answers the order as written, or null.
 */
export function commitRefund(
  kv: Deno.Kv,
  o: {
    pk: string;
    id: string;
    refundedTotal: number;
    restock?: ((p: Project, order: Order) => Project) | undefined;
    /** The UTC day the refund counts on (the trends' revenue is net of it). */
    day: string;
    /** Outbound-webhook events of the refund, written in its commit. */
    events?: (order: Order) => OutboxEvent[];
    now: number;
  },
): Promise<{ order: Order; project: Project | null } | null> {
  return retryAtomic("record the refund", async () => {
    const [cur, proj] = await kv.getMany<[Order, Project]>([
      orderKeys.byId(o.pk, o.id),
      projectKeys.byPk(o.pk),
    ]);
    const order = cur!.value;
    if (!order) return null;
    const total = Math.min(order.amountTotal, Math.max(order.amountRefunded, o.refundedTotal));
    const restock = o.restock && !order.restocked && proj!.value ? o.restock : undefined;
    if (total === order.amountRefunded && !restock) return { order, project: null };
    const next: Order = {
      ...order,
      amountRefunded: total,
      status: total >= order.amountTotal ? "refunded" : total > 0 ? "partially_refunded" : "paid",
      ...(restock ? { restocked: true } : {}),
    };
    let op = kv.atomic().check(cur!).set(cur!.key, next);
    const delta = total - order.amountRefunded;
    if (delta > 0) {
      op = op.sum(projectStatKeys.refunded(o.pk), BigInt(delta))
        .sum(projectStatKeys.day(o.pk, o.day, "refunded"), BigInt(delta));
    }
    // an event when money moved: a restock alone (the refund's own commit after the provider's
    // echo of it recorded the amount) is not another refund
    op = addEvents(op, o.pk, { events: delta > 0 ? o.events?.(next) ?? [] : [], now: o.now });
    let project: Project | null = null;
    if (restock) {
      project = restock(proj!.value!, order);
      op = bumpEpoch(op.check(proj!).set(proj!.key, project), o.pk);
    }
    return (await op.commit()).ok ? { order: next, project } : RETRY;
  });
}
