/** Orders of a Store project: pages for the dashboard and the APIs, one order by id. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { getOrder, listOrders, type Order } from "@/lib/kv/orders.ts";
import { NotFoundError } from "@/lib/errors.ts";

/** The public shape of an order (the stored one less its keys). */
export function publicOrder(o: Order) {
  return {
    id: o.id,
    status: o.status,
    email: o.email,
    name: o.name,
    items: o.items,
    amountTotal: o.amountTotal,
    amountRefunded: o.amountRefunded,
    currency: o.currency,
    createdAt: o.createdAt,
  };
}

/** One page of a project's orders, newest first; `cursor` is the previous `nextCursor`. */
export async function orderPage(
  s: Services,
  project: Project,
  o: { limit?: number | undefined; cursor?: string | undefined },
) {
  const page = await listOrders(s.kv, project.pk, { limit: o.limit ?? 25, cursor: o.cursor });
  return { orders: page.items.map(publicOrder), nextCursor: page.nextCursor };
}

export async function requireOrder(s: Services, project: Project, id: string): Promise<Order> {
  const order = /^res_[0-9A-Z]{26}$/.test(id) ? await getOrder(s.kv, project.pk, id) : null;
  if (!order) throw new NotFoundError(`No order "${id.slice(0, 64)}" in this project`);
  return order;
}
