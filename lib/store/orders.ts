/** Orders of a Store project: pages for the dashboard and the APIs, one order by id. */
import { webhookEvents } from "@/lib/outbound/events.ts";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { z } from "zod";
import {
  commitRefund,
  getOrder,
  listBuyers,
  listOrders,
  type Order,
  ordersOfBuyer,
} from "@/lib/kv/orders.ts";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { onceWithKey } from "@/lib/kv/provider_calls.ts";
import { recordAction } from "@/lib/audit.ts";
import { dayKey } from "@/lib/period.ts";

/** The public shape of an order (the stored one less its keys). */
export function publicOrder(o: Order) {
  return {
    id: o.id,
    status: o.status,
    email: o.email,
    name: o.name,
    items: o.items.map((i) => ({
      productId: i.productId,
      name: i.name,
      quantity: i.quantity,
      unitAmount: i.unitAmount,
    })),
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

/** A Store's buyers (one per email they paid with), with their order count and spend. */
export async function buyerPage(
  s: Services,
  project: Project,
  o: { limit?: number | undefined; cursor?: string | undefined },
) {
  const page = await listBuyers(s.kv, project.pk, { limit: o.limit ?? 25, cursor: o.cursor });
  return { buyers: page.items, nextCursor: page.nextCursor };
}

/** One buyer's orders, newest first (at most `limit`). */
export async function buyerOrders(
  s: Services,
  project: Project,
  o: { email: string; limit?: number | undefined; cursor?: string | undefined },
) {
  const page = await ordersOfBuyer(s.kv, project.pk, {
    email: o.email,
    limit: o.limit ?? 25,
    cursor: o.cursor,
  });
  return { orders: page.items.map(publicOrder), nextCursor: page.nextCursor };
}

export async function requireOrder(s: Services, project: Project, id: string): Promise<Order> {
  const order = /^res_[0-9A-Z]{26}$/.test(id) ? await getOrder(s.kv, project.pk, id) : null;
  if (!order) throw new NotFoundError(`No order "${id.slice(0, 64)}" in this project`);
  return order;
}

export const RefundInputSchema = z.object({
  /** Minor units; default: all that is left. */
  amount: z.number().int("must be a whole number of minor units").positive().optional(),
  /** Give the order's items back to stock (once per order). */
  restock: z.boolean().optional(),
}).strict();
export type RefundInput = z.infer<typeof RefundInputSchema>;

/** Gives an order's items back to its project's stock (items without finite stock stay). */
export function restockOrder(p: Project, order: Order): Project {
  return {
    ...p,
    tiers: p.tiers.map((t) => {
      const n = order.items.filter((i) => i.tierId === t.id && i.counted !== false)
        .reduce((sum, i) => sum + i.quantity, 0);
      return n && t.inventory !== null ? { ...t, inventory: t.inventory + n } : t;
    }),
  };
}

/**
 * Refunds an order through the payment provider (all that is left unless `amount`), then
 * records it: status, refunded total, revenue net of it and, with `restock`, the stock back.
 * One refund per order at a time in this instance; the provider refuses more than was paid, and
 * its idempotency key makes a retried refund (after a crash) the same refund.
 */
export function refundOrder(
  s: Services,
  project: Project,
  o: { id: string; input: RefundInput; actor: string },
): Promise<Order> {
  return s.locks.run(`order:${project.pk}:${o.id}`, async () => {
    const order = await requireOrder(s, project, o.id);
    const left = order.amountTotal - order.amountRefunded;
    const amount = o.input.amount ?? left;
    if (left <= 0 && !o.input.restock) throw new ConflictError("This order is refunded already");
    if (amount > left) {
      throw new ValidationError(`At most ${left} is left to refund on this order`, [
        { field: "amount", message: `at most ${left}` },
      ]);
    }
    if (amount > 0) {
      if (!order.sessionId) throw new ConflictError("This order has no payment to refund");
      const acct = await accountFor(s, project);
      await onceWithKey(s.kv, {
        scope: `refund:${order.id}:${order.amountRefunded}:${amount}`,
        now: s.clock.now(),
        call: async (idempotencyKey) =>
          (await s.payments.refundPayment(acct, {
            sessionId: order.sessionId!,
            amount,
            metadata: { dream_pk: project.pk, dream_order: order.id },
            idempotencyKey,
          })).id,
      });
    }
    const out = await s.locks.run(`stock:${project.pk}`, () =>
      commitRefund(s.kv, {
        pk: project.pk,
        id: order.id,
        refundedTotal: order.amountRefunded + amount,
        restock: o.input.restock ? restockOrder : undefined,
        day: dayKey(s.clock.now()),
        events: (next) =>
          webhookEvents(project, "order.refunded", {
            object: publicOrder(next),
            version: s.clock.now(),
          }),
        now: s.clock.now(),
      }));
    if (!out) throw new NotFoundError(`No order "${o.id}" in this project`);
    if (out.project) s.caches.projects.set(project.pk, out.project);
    // a restock asked again of an order refunded and restocked already changes nothing: no action
    if (amount === 0 && !out.project) return out.order;
    await recordAction(s, project.pk, {
      type: "order.refunded",
      summary: `order ${order.id}: ${amount} ${order.currency} refunded` +
        (o.input.restock ? ", items restocked" : ""),
      actor: o.actor,
      outcome: out.order.status,
    });
    return out.order;
  });
}
