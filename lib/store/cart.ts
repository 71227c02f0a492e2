/**
 * Store checkout: stock is reserved atomically with the checkout session, released when the
 * session expires or is abandoned (or the sweep finds it stale), and becomes a sale when paid.
 * Inventory lives on the project's products; every change is a versionstamp-checked commit, and
 * one instance serialises its own reservations per project so bursts don't spin on conflicts.
 */
import { promotionFor } from "@/lib/billing/coupons.ts";
import { z } from "zod";
import type { Services } from "@/lib/services.ts";
import type { Product, Project } from "@/lib/kv/projects.ts";
import {
  linkReservationSession,
  type Reservation,
  type ReservationLine,
  reserveStock,
  settleReservation,
} from "@/lib/kv/reservations.ts";
import { ConflictError, RateLimitedError, ValidationError } from "@/lib/errors.ts";
import { sha256Hex } from "@/lib/crypto.ts";
import { Email } from "@/lib/schemas.ts";
import { checkoutReturnUrls } from "@/lib/billing/return_urls.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { expireIfOpen } from "@/lib/payments/expire_checkout.ts";
import { afterward, retried } from "@/lib/afterward.ts";
import { answerCartKey, dropCartKey } from "@/lib/kv/cart_keys.ts";
import { cartFingerprint, cartKeyFor, replayedCart } from "@/lib/store/cart_keys.ts";
import { sellingTiers } from "@/lib/catalog/sync.ts";
import { ulid } from "@/lib/ids.ts";
import type { Order } from "@/lib/kv/orders.ts";
import { offeredTiers, publicTier } from "@/lib/catalog/tiers.ts";
import { webhookEvents } from "@/lib/outbound/events.ts";
import { publicOrder } from "@/lib/store/orders.ts";

export const CartInputSchema = z.object({
  email: Email.optional(),
  /** The buyer's name (the original dream-api SDK sends it): kept with the order. */
  name: z.string().trim().min(1).max(200).optional(),
  items: z.array(
    z.object({
      priceId: z.string().min(1).max(100).optional(),
      productId: z.string().min(1).max(100).optional(),
      quantity: z.number().int("must be a whole number").min(1).max(999),
    }).refine(
      (i) => (i.priceId === undefined) !== (i.productId === undefined),
      "give either priceId or productId",
    ),
  ).min(1).max(20),
  ...checkoutReturnUrls("cart"),
  /** A promotion code of the project (422 when unknown, expired or used up). */
  promotionCode: z.string().trim().min(1).max(40).optional(),
});
export type CartInput = z.infer<typeof CartInputSchema>;

/** The public shape of a product (GET /api/products). */
export function publicProduct(t: Product) {
  return {
    id: t.productId ?? t.id,
    name: t.name,
    displayName: t.displayName,
    description: t.description,
    price: t.price,
    currency: t.currency,
    imageUrl: t.imageUrl,
    inventory: t.inventory,
    soldOut: t.inventory !== null && t.inventory <= 0,
    priceId: t.priceId,
    productId: t.productId,
  };
}

/** Resolves cart lines to this project's products, merging repeats; unknown items are 422. */
export function resolveLines(
  p: Project,
  items: CartInput["items"],
): { tier: Product; quantity: number }[] {
  const merged = new Map<string, { tier: Product; quantity: number }>();
  items.forEach((item, i) => {
    const offered = offeredTiers(p);
    const tier = item.priceId
      ? offered.find((t) => t.priceId === item.priceId)
      : offered.find((t) => t.productId === item.productId || t.id === item.productId);
    if (!tier) {
      const id = item.priceId ?? item.productId;
      throw new ValidationError(`Unknown item "${id}" in this store`, [{
        field: `items.${i}`,
        message: "unknown product or price",
      }]);
    }
    const cur = merged.get(tier.id);
    merged.set(tier.id, { tier, quantity: (cur?.quantity ?? 0) + item.quantity });
  });
  const lines = [...merged.values()];
  const currencies = new Set(lines.map((l) => l.tier.currency));
  if (currencies.size > 1) {
    throw new ValidationError("All items of a cart must share one currency", [{
      field: "items",
      message: "mixed currencies",
    }]);
  }
  return lines;
}

/** Takes stock for every line or nothing: 409 naming the first product short of stock. */
export function takeStock(
  p: Project,
  lines: { tier: Product; quantity: number }[],
): { project: Project; taken: ReservationLine[] } {
  const tiers = p.tiers.map((t) => ({ ...t }));
  const taken: ReservationLine[] = [];
  for (const l of lines) {
    const t = tiers.find((x) => x.id === l.tier.id);
    if (!t) throw new ConflictError(`Product "${l.tier.name}" was just removed`);
    const counted = t.inventory !== null;
    if (t.inventory !== null) {
      if (t.inventory < l.quantity) {
        throw new ConflictError(
          t.inventory === 0
            ? `Product "${t.name}" is sold out`
            : `Only ${t.inventory} of "${t.name}" left in stock (asked for ${l.quantity})`,
        );
      }
      t.inventory -= l.quantity;
    }
    taken.push({
      tierId: t.id,
      name: t.name,
      quantity: l.quantity,
      unitAmount: t.price,
      currency: t.currency,
      counted,
    });
  }
  return { project: { ...p, tiers }, taken };
}

/** Gives counted stock back (a product deleted or made unlimited since keeps what it has). */
export function returnStock(p: Project, lines: ReservationLine[], sign: 1 | -1 = 1): Project {
  return {
    ...p,
    tiers: p.tiers.map((t) => {
      const l = lines.find((x) => x.tierId === t.id && x.counted);
      if (!l || t.inventory === null) return t;
      return { ...t, inventory: Math.max(0, t.inventory + sign * l.quantity) };
    }),
  };
}

/**
 * When a hold's Checkout session ends (ms). Stripe takes 30 minutes to 24 hours, counted from
 * when it gets the request, so the hold's end is kept a margin inside both (latency, clocks);
 * a session that outlives its hold is ended with it by the sweep.
 */
export function sessionEnd(now: number, holdEnd: number): number {
  return Math.min(Math.max(holdEnd, now + 32 * 60_000), now + 1430 * 60_000);
}

/**
 * Reserves stock and opens a one-off payment checkout for the cart. Guests need no customer;
 * the provider collects the email when none is given. If the session can't be made, the stock
 * goes back at once.
 */
export async function checkoutCart(
  s: Services,
  project: Project,
  input: CartInput & {
    /** Resolved (returnUrls): given, or the calling page's default. */
    successUrl: string;
    cancelUrl: string;
    origin: string;
    clientAddress: string;
    /** The caller's Idempotency-Key (lib/store/cart_keys.ts). */
    idempotencyKey?: string | undefined;
  },
) {
  const client = (await sha256Hex(`hold:${input.clientAddress}`)).slice(0, 32);
  const maxHolds = s.config.holdsPerClient;
  const lines = resolveLines(project, input.items);
  // a bad code is refused before any stock is held
  const promo = input.promotionCode ? await promotionFor(s, project, input.promotionCode) : null;
  const acct = await accountFor(s, project);
  const now = s.clock.now();
  const id = `res_${ulid(now)}`;
  const expiresAt = now + s.config.reservationMinutes * 60_000;
  const key = input.idempotencyKey ?? null;
  const fingerprint = key ? cartFingerprint(input) : "";
  const held = await s.locks.run(
    `stock:${project.pk}`,
    () =>
      reserveStock(s.kv, {
        pk: project.pk,
        client,
        now,
        claim: key ? { pk: project.pk, key, value: cartKeyFor(fingerprint) } : null,
        events: (before, after) =>
          after.tiers.filter((t) =>
            t.inventory === 0 && (before.tiers.find((b) => b.id === t.id)?.inventory ?? 0) > 0
          ).flatMap((t) =>
            webhookEvents(after, "product.sold_out", { object: publicTier(after, t), version: now })
          ),
        decide: (cur, holds) => {
          if (maxHolds > 0 && holds >= maxHolds) {
            throw new RateLimitedError(
              `This client already holds ${holds} unpaid checkouts in this store; pay or let one expire first`,
              60,
            );
          }
          const { project: next, taken } = takeStock(cur, lines);
          return {
            project: next,
            reservation: {
              id,
              pk: project.pk,
              lines: taken,
              status: "pending",
              sessionId: null,
              email: input.email ?? null,
              name: input.name ?? null,
              amountTotal: taken.reduce((sum, l) => sum + l.unitAmount * l.quantity, 0),
              currency: taken[0]!.currency,
              createdAt: new Date(now).toISOString(),
              expiresAt,
              client,
            },
          };
        },
      }),
  );
  if ("taken" in held) return { ...replayedCart(held.taken, fingerprint), replayed: true };
  const { project: reserved, reservation } = held;
  s.caches.projects.set(reserved.pk, reserved);
  let session;
  try {
    session = await sellingTiers(
      s,
      project,
      lines.map((l) => l.tier),
      (sold, healed) =>
        s.payments.createCheckoutSession(acct, {
          mode: "payment",
          lineItems: sold.map((t, i) => ({ price: t.priceId!, quantity: lines[i]!.quantity })),
          successUrl: input.successUrl,
          cancelUrl: input.cancelUrl,
          customerEmail: input.email,
          metadata: { dream_pk: project.pk, dream_reservation: id, ...promo?.metadata },
          ...(promo ? { promotionCode: promo.promotionCode } : {}),
          expiresAt: Math.floor(sessionEnd(now, expiresAt) / 1000),
          idempotencyKey: healed
            ? `cart_${id}_${sold.map((t) => t.priceId).join("_")}`
            : `cart_${id}`,
          ...(project.automaticTax ? { automaticTax: true } : {}),
          origin: input.origin,
        }),
    );
    await linkReservationSession(s.kv, { pk: project.pk, id, sessionId: session.id });
    const answer = {
      url: session.url,
      sessionId: session.id,
      reservationId: reservation.id,
      expiresAt: new Date(expiresAt).toISOString(),
    };
    if (key) await retried(() => answerCartKey(s.kv, { pk: project.pk, key, answer }));
    return { ...answer, replayed: false };
  } catch (err) {
    // nothing was sold: a session made before the failure is ended (no one was given its URL)
    // and the stock goes back at once (a store still failing leaves the hold to the sweep,
    // which releases it when it expires)
    if (session) await expireIfOpen(s, acct, session.id, "its checkout could not be answered");
    await afterward(
      s.logger,
      "a failed checkout's hold is left to expire",
      { pk: project.pk, id },
      () => releaseReservation(s, { pk: project.pk, id }),
    );
    // its key freed, so that a retry with it tries again
    if (key) {
      await afterward(s.logger, "a failed cart's Idempotency-Key stays taken", {
        pk: project.pk,
        id,
      }, () => dropCartKey(s.kv, { pk: project.pk, key, reservationId: id }));
    }
    throw err;
  }
}

/**
 * Moves a reservation to `to` under this instance's stock lock: a release gives its stock back,
 * a payment after a release takes it again, a sale counts. Answers `to`, "unchanged" or
 * "duplicate" (the event was applied before).
 */
async function settle(
  s: Services,
  target: { pk: string; id: string },
  opts: {
    to: "completed" | "released";
    eventId?: string | undefined;
    amountTotal?: number | null;
    email?: string | null;
  },
): Promise<string> {
  const to = opts.to;
  const out = await s.locks.run(`stock:${target.pk}`, () =>
    settleReservation(s.kv, {
      ...target,
      eventId: opts.eventId,
      now: s.clock.now(),
      decide: (resv, proj) => {
        if (resv.status === to || resv.status === "completed") return null;
        const next = to === "released"
          ? returnStock(proj, resv.lines, 1)
          : resv.status === "released"
          ? returnStock(proj, resv.lines, -1) // paid after a release: take it again
          : null;
        const reservation = { ...resv, status: to, email: resv.email ?? opts.email ?? null };
        const amount = opts.amountTotal ?? resv.amountTotal;
        return {
          reservation,
          project: next,
          sale: to === "completed" ? { amount } : null,
          order: to === "completed"
            ? orderOf(reservation, { project: proj, amount, now: s.clock.now() })
            : null,
        };
      },
      events: (d, before) =>
        d.order
          ? webhookEvents(before, "order.paid", {
            object: publicOrder(d.order),
            version: s.clock.now(),
          })
          : [],
    }));
  if (out.project) s.caches.projects.set(target.pk, out.project);
  return out.outcome === "settled" ? to : out.outcome;
}

/** The order a paid hold becomes: the buyer, the lines as sold, the amount paid. */
function orderOf(r: Reservation, o: { project: Project; amount: number; now: number }): Order {
  return {
    id: r.id,
    pk: r.pk,
    status: "paid",
    email: r.email,
    name: r.name ?? null,
    items: r.lines.map((l) => {
      const t = o.project.tiers.find((x) => x.id === l.tierId);
      return {
        productId: t?.productId ?? l.tierId,
        name: l.name,
        quantity: l.quantity,
        unitAmount: l.unitAmount,
        tierId: l.tierId,
        counted: l.counted,
      };
    }),
    amountTotal: o.amount,
    amountRefunded: 0,
    currency: r.currency,
    sessionId: r.sessionId,
    createdAt: new Date(o.now).toISOString(),
  };
}

/** Gives a pending reservation's stock back (expired or abandoned checkout). */
export function releaseReservation(
  s: Services,
  target: { pk: string; id: string },
  o: { eventId?: string | undefined } = {},
) {
  return settle(s, target, { to: "released", ...o });
}

/** Turns a reservation into a sale: sales +1, revenue + amount; stock stays taken. */
export function completeReservation(
  s: Services,
  target: { pk: string; id: string },
  o: { eventId?: string; amountTotal?: number | null; email?: string | null },
) {
  return settle(s, target, { to: "completed", ...o });
}
