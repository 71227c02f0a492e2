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
}

export const orderKeys = {
  byId: (pk: string, id: string) => ["orders", pk, id] as const,
  list: (pk: string) => ["orders", pk] as const,
};

export async function getOrder(kv: Deno.Kv, pk: string, id: string): Promise<Order | null> {
  return (await kv.get<Order>(orderKeys.byId(pk, id))).value;
}

/** One page of a project's orders, newest first, with an opaque cursor. */
export async function listOrders(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string | undefined },
): Promise<{ items: Order[]; nextCursor: string | null }> {
  const iter = kv.list<Order>({ prefix: orderKeys.list(pk) }, {
    limit: opts.limit,
    reverse: true,
    ...(opts.cursor ? { cursor: opts.cursor } : {}),
  });
  const items: Order[] = [];
  for await (const e of iter) items.push(e.value);
  return { items, nextCursor: items.length === opts.limit && iter.cursor ? iter.cursor : null };
}
