/**
 * The sandbox's clock: when asked, it moves its subscriptions and sessions forward to now.
 * It reads only the due index up to now, so its cost follows what is due, not everything ever
 * made. Its one caller, the provider's tick, never runs two at once.
 */
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import type { StoredSubscription } from "@/lib/kv/sandbox.ts";
import { addInterval } from "@/lib/period.ts";
import { type EventSpec, invoiceObject, sec } from "@/lib/payments/sandbox/objects.ts";
import { meteredLines } from "@/lib/payments/sandbox/metering.ts";
import {
  expireCheckout,
  FAILING_PAYMENT_METHOD,
  invoiceEvent,
  type SandboxContext,
} from "@/lib/payments/sandbox/flows.ts";

/** How many due items one tick handles at most (the next tick takes the rest). */
const PER_TICK = 1000;

export class SandboxClock {
  #ctx: SandboxContext;

  constructor(ctx: SandboxContext) {
    this.#ctx = ctx;
  }

  /**
   * Subscriptions past their period end renew (`invoice.paid`, `customer.subscription.updated`)
   * or, when canceling, end (`customer.subscription.deleted`); open checkout sessions past
   * `expires_at` expire. Answers how many things changed; when some item failed, the others
   * are done and it throws an `AggregateError` naming the first (the failed stay due).
   */
  async tick(): Promise<number> {
    const { store } = this.#ctx;
    await store.backfillDue();
    const now = sec(this.#ctx.now());
    let changed = 0;
    // one item that fails is left due for the next tick and never stops the others
    const failures: { id: string; error: unknown }[] = [];
    for await (const due of store.due("subscription", { atSeconds: now, limit: PER_TICK })) {
      try {
        const cur = await store.getSubscription(due.id);
        const end = cur?.stored.items.data[0]?.current_period_end ?? Infinity;
        if (!cur || cur.stored.status === "canceled" || end > now) {
          await store.dropDue(due.key); // stale entry: the subscription moved on
          continue;
        }
        // decided on what was read: when the subscription changed meanwhile (a cancel, a
        // switch), nothing is written and the next tick decides again
        if (await this.#periodEnd(cur.stored, now, cur.versionstamp)) changed++;
      } catch (error) {
        failures.push({ id: due.id, error });
      }
    }
    for await (const due of store.due("checkout", { atSeconds: now, limit: PER_TICK })) {
      try {
        if (await expireCheckout(this.#ctx, due.id).catch(() => null)) changed++;
        else await store.dropDue(due.key); // finished or gone meanwhile
      } catch (error) {
        failures.push({ id: due.id, error });
      }
    }
    if (failures.length) {
      const first = failures[0]!;
      throw new AggregateError(
        failures.map((f) => f.error),
        `${failures.length} due sandbox item(s) failed (the others moved on), ${first.id}: ${
          first.error instanceof Error ? first.error.message : String(first.error)
        }`,
      );
    }
    return changed;
  }

  /**
   * A trial at its end: the card is charged for the first period. A card that fails ends the
   * subscription (`invoice.payment_failed`, then `customer.subscription.deleted`); one that
   * works converts it (`invoice.paid`, `customer.subscription.updated` to active).
   */
  #trialEnd(stored: StoredSubscription, now: number, expected: string): Promise<boolean> {
    const { account, ...sub } = stored;
    const item = sub.items.data[0]!;
    const trialEnd = item.current_period_end!;
    const fails = (sub as unknown as { default_payment_method?: string })
      .default_payment_method === FAILING_PAYMENT_METHOD;
    const interval = item.price.recurring?.interval === "year" ? "year" : "month";
    let start = trialEnd;
    let end = sec(Date.parse(addInterval(new Date(trialEnd * 1000).toISOString(), interval)));
    while (end <= now) {
      start = end;
      end = sec(Date.parse(addInterval(new Date(start * 1000).toISOString(), interval)));
    }
    const next: StripeSubscription = {
      ...sub,
      status: fails ? "canceled" : "active",
      ...(fails ? { canceled_at: trialEnd, ...({ ended_at: trialEnd } as object) } : {}),
      items: {
        ...sub.items,
        data: [
          fails ? item : { ...item, current_period_start: start, current_period_end: end },
          ...sub.items.data.slice(1),
        ],
      },
    };
    const charged = { ...next, status: "active" } as StripeSubscription; // the invoice's amount
    return this.#save(next, account, expected, [
      invoiceEvent(this.#ctx, fails ? "invoice.payment_failed" : "invoice.paid", {
        subscription: charged,
        account,
      }),
      {
        type: fails ? "customer.subscription.deleted" : "customer.subscription.updated",
        object: next as unknown as Record<string, unknown>,
        account,
      },
    ]);
  }

  /**
   * A subscription at its period end: it ends when canceling, else renews (to now). False when
   * it changed after `expected` was read (nothing written: the next tick decides again).
   */
  async #periodEnd(stored: StoredSubscription, now: number, expected: string): Promise<boolean> {
    const { account, ...sub } = stored;
    const item = sub.items.data[0]!;
    if (sub.cancel_at_period_end) {
      const ended = {
        ...sub,
        status: "canceled",
        ...({ ended_at: item.current_period_end } as object),
      } as StripeSubscription;
      return this.#save(ended, account, expected, [{
        type: "customer.subscription.deleted",
        object: ended as unknown as Record<string, unknown>,
        account,
      }]);
    }
    if (sub.status === "trialing") return this.#trialEnd(stored, now, expected);
    let start = item.current_period_end!;
    let end = start;
    const interval = item.price.recurring?.interval === "year" ? "year" : "month";
    while (end <= now) {
      start = end;
      end = sec(Date.parse(addInterval(new Date(start * 1000).toISOString(), interval)));
    }
    const renewed: StripeSubscription = {
      ...sub,
      items: {
        ...sub.items,
        data: [
          { ...item, current_period_start: start, current_period_end: end },
          ...sub.items.data.slice(1),
        ],
      },
    };
    // Stripe drafts the renewal invoice at the period's end (`invoice.created`, its period the
    // one that ended): usage reported then is billed on it, in arrears, with the new fee. Its id
    // is the period's, so a renewal done again (the process stopped before the renewal's commit)
    // sends the same event, which the webhook route takes once.
    const ended = { start: item.current_period_start!, end: item.current_period_end! };
    await this.#ctx.emit({
      type: "invoice.created",
      object: invoiceObject(sub, { paid: false, draft: true, now: this.#ctx.now(), period: ended }),
      account,
      id: `evt_renewal_${sub.id}_${ended.end}`,
    });
    const usage = await meteredLines(this.#ctx.store, sub, ended);
    return this.#save(renewed, account, expected, [
      {
        type: "invoice.paid",
        object: invoiceObject(renewed, { paid: true, now: this.#ctx.now(), extraLines: usage }),
        account,
      },
      {
        type: "customer.subscription.updated",
        object: renewed as unknown as Record<string, unknown>,
        account,
      },
    ]);
  }

  /**
   * Saves what the clock decided with its events, checked against `expected` (the versionstamp
   * it decided on), then sends them: false, nothing written, when the subscription changed since.
   */
  async #save(
    next: StripeSubscription,
    account: string | null,
    expected: string,
    specs: EventSpec[],
  ): Promise<boolean> {
    const events = this.#ctx.events(specs);
    if (!(await this.#ctx.store.saveSubscription(next, account, events, expected))) return false;
    await this.#ctx.send(events);
    return true;
  }
}
