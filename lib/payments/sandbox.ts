/**
 * The sandbox payment provider: an offline stand-in for Stripe on this server. Checkout and
 * portal sessions are pages of this server (routes/sandbox.tsx); paying, cancelling, switching
 * and period ends produce Stripe-shaped objects (from Stripe's fixtures) and signed events that
 * go through the same `/webhook/stripe` code as real ones, before the action answers.
 */
import Stripe from "stripe";
import type {
  AccountRef,
  CheckoutRequest,
  PaymentProvider,
  StripeCheckoutSession,
  StripeEvent,
  StripePrice,
  StripeSubscription,
} from "@/lib/payments/provider.ts";
import { signPayload, verifySignedEvent } from "@/lib/payments/signature.ts";
import { stripeShape } from "@/lib/payments/fixtures.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { addInterval } from "@/lib/usage/period.ts";
import { NotFoundError, ValidationError } from "@/lib/errors.ts";
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";

type Kind =
  | "account"
  | "product"
  | "price"
  | "checkout"
  | "subscription"
  | "portal"
  | "customer"
  | "idem";

export const sandboxKeys = {
  object: (kind: Kind, id: string) => ["sandbox", kind, id] as const,
  list: (kind: Kind) => ["sandbox", kind] as const,
  /** What the clock must act on, by when (ISO): open sessions and live subscriptions only. */
  due: (kind: "checkout" | "subscription", atSeconds: number, id: string) =>
    ["sandbox_due", kind, new Date(atSeconds * 1000).toISOString(), id] as const,
  listDue: (kind: "checkout" | "subscription") => ["sandbox_due", kind] as const,
  /** A customer's subscriptions (pointers), for the portal. */
  byCustomer: (customer: string, subscriptionId: string) =>
    ["sandbox_by_customer", customer, subscriptionId] as const,
  listByCustomer: (customer: string) => ["sandbox_by_customer", customer] as const,
};

/** How long a finished (completed or expired) checkout session is kept for lookups. */
const FINISHED_SESSION_TTL_MS = 7 * 86_400_000;

type StoredSubscription = StripeSubscription & { account: string | null };

/** When the sandbox clock must next act on a subscription: its period end, unless it ended. */
function dueOf(sub: StripeSubscription): number | null {
  if (sub.status === "canceled") return null;
  return sub.items.data[0]?.current_period_end ?? null;
}

/** Sandbox-only fields kept beside a checkout session. */
export interface SandboxSession extends StripeCheckoutSession {
  account: string | null;
  line_items_expanded: { price: StripePrice; quantity: number; productName: string }[];
  subscription_metadata: Record<string, string>;
}

interface SandboxPortal {
  id: string;
  account: string | null;
  customer: string;
  return_url: string;
}

type Deliver = (payload: string, signature: string) => Promise<void>;

const sec = (ms: number) => Math.floor(ms / 1000);

export class SandboxProvider implements PaymentProvider {
  readonly kind = "sandbox" as const;
  /** Its pages are this server's own. */
  readonly formOrigins: string[] = [];
  #kv: Deno.Kv;
  #now: () => number;
  #secret: string;
  #stripe = new Stripe("sk_test_sandbox_signing_only");
  #deliver: Deliver | null = null;

  constructor(kv: Deno.Kv, now: () => number, webhookSecret: string) {
    this.#kv = kv;
    this.#now = now;
    this.#secret = webhookSecret;
  }

  /** Where signed events go: the app's own `/webhook/stripe` handler. */
  attach(deliver: Deliver) {
    this.#deliver = deliver;
  }

  #id(prefix: string) {
    return `${prefix}_${randomBase62(24)}`;
  }

  async #get<T>(kind: Kind, id: string): Promise<T> {
    const v = (await this.#kv.get<T>(sandboxKeys.object(kind, id))).value;
    if (!v) throw new NotFoundError(`No sandbox ${kind} ${id}`);
    return v;
  }

  async #put(kind: Kind, id: string, v: unknown) {
    await this.#kv.set(sandboxKeys.object(kind, id), v);
  }

  /** Stores a subscription with its due-index entry and customer pointer, in one commit. */
  async #saveSubscription(sub: StripeSubscription, account: string | null) {
    const key = sandboxKeys.object("subscription", sub.id);
    await retryAtomic("save the sandbox subscription", async () => {
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
      return (await op.commit()).ok ? null : RETRY;
    });
  }

  /** Runs `create` once per idempotency key, like Stripe: a retry gets the first object's id. */
  async #once(key: string, create: () => Promise<string>): Promise<string> {
    const prior = (await this.#kv.get<string>(sandboxKeys.object("idem", key))).value;
    if (prior) return prior;
    const id = await create();
    await this.#kv.set(sandboxKeys.object("idem", key), id, { expireIn: 24 * 3600_000 });
    return id;
  }

  /** Signs and delivers one event through the webhook route; throws if it was not accepted. */
  async emit(type: string, object: Record<string, unknown>, account: string | null) {
    const event = stripeShape<StripeEvent>("event", {
      id: this.#id("evt"),
      type,
      created: sec(this.#now()),
      account,
      livemode: false,
      api_version: "2026-10-28.endive",
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      data: { object },
    });
    const payload = JSON.stringify(event);
    const header = await signPayload(this.#stripe, payload, this.#secret, sec(this.#now()));
    if (!this.#deliver) throw new Error("sandbox has no webhook receiver attached");
    await this.#deliver(payload, header);
    return event;
  }

  startConnect(o: { origin: string; callbackUrl: string; state: string }) {
    const accountId = `acct_sandbox${randomBase62(12)}`;
    return Promise.resolve({
      accountId,
      url: `${o.callbackUrl}?state=${encodeURIComponent(o.state)}`,
    });
  }

  accountReady(): Promise<boolean> {
    return Promise.resolve(true);
  }

  createProduct(
    acct: AccountRef,
    o: {
      name: string;
      description: string | null;
      images: string[];
      metadata: Record<string, string>;
      idempotencyKey: string;
    },
  ) {
    return this.#once(o.idempotencyKey, async () => {
      const id = this.#id("prod");
      await this.#put(
        "product",
        id,
        stripeShape("product", {
          id,
          name: o.name,
          description: o.description,
          images: o.images,
          metadata: o.metadata,
          active: true,
          default_price: null,
          created: sec(this.#now()),
          updated: sec(this.#now()),
          livemode: acct.mode === "live",
          package_dimensions: null,
        }),
      );
      return id;
    });
  }

  async updateProduct(
    _acct: AccountRef,
    id: string,
    o: { name: string; description: string | null; images: string[]; active?: boolean },
  ) {
    const p = await this.#get<Record<string, unknown>>("product", id);
    await this.#put("product", id, { ...p, ...o, updated: sec(this.#now()) });
  }

  createPrice(
    acct: AccountRef,
    o: {
      product: string;
      unitAmount: number;
      currency: string;
      interval: "month" | "year" | null;
      metadata: Record<string, string>;
      idempotencyKey: string;
    },
  ) {
    return this.#once(o.idempotencyKey, async () => {
      const id = this.#id("price");
      await this.#put(
        "price",
        id,
        stripeShape<StripePrice>("price", {
          id,
          product: o.product,
          unit_amount: o.unitAmount,
          unit_amount_decimal: String(o.unitAmount),
          currency: o.currency,
          active: true,
          type: o.interval ? "recurring" : "one_time",
          recurring: o.interval
            ? {
              interval: o.interval,
              interval_count: 1,
              meter: null,
              usage_type: "licensed",
              trial_period_days: null,
            }
            : null,
          metadata: o.metadata,
          livemode: acct.mode === "live",
          created: sec(this.#now()),
          transform_quantity: null,
        }),
      );
      return id;
    });
  }

  async archivePrice(_acct: AccountRef, id: string) {
    const p = await this.#get<StripePrice>("price", id);
    await this.#put("price", id, { ...p, active: false });
  }

  createCheckoutSession(acct: AccountRef, o: CheckoutRequest) {
    return this.#once(o.idempotencyKey, async () => {
      const id = `cs_test_${randomBase62(40)}`;
      const items = [];
      let total = 0;
      let currency: string | null = null;
      for (const li of o.lineItems) {
        const price = await this.#get<StripePrice>("price", li.price);
        if (!price.active) throw new ValidationError(`Price ${li.price} is archived`);
        const product = await this.#get<{ name: string }>("product", price.product);
        items.push({ price, quantity: li.quantity, productName: product.name });
        total += (price.unit_amount ?? 0) * li.quantity;
        currency = price.currency;
      }
      const session: SandboxSession = stripeShape<SandboxSession>("checkout.session", {
        id,
        mode: o.mode,
        status: "open",
        payment_status: "unpaid",
        customer: o.customer ?? null,
        customer_email: o.customerEmail ?? null,
        customer_details: null,
        client_reference_id: o.clientReferenceId ?? null,
        subscription: null,
        payment_intent: null,
        metadata: o.metadata,
        amount_subtotal: total,
        amount_total: total,
        currency,
        success_url: o.successUrl,
        cancel_url: o.cancelUrl,
        created: sec(this.#now()),
        expires_at: o.expiresAt ?? sec(this.#now()) + 24 * 3600,
        livemode: acct.mode === "live",
        url: `${o.origin}/sandbox/checkout/${id}`,
        shipping_cost: null,
        shipping_address_collection: null,
        account: acct.accountId,
        line_items_expanded: items,
        subscription_metadata: o.subscriptionMetadata ?? {},
      });
      await this.#kv.atomic()
        .set(sandboxKeys.object("checkout", id), session)
        .set(sandboxKeys.due("checkout", session.expires_at!, id), true)
        .commit();
      return id;
    }).then(async (id) => ({ id, url: (await this.#get<SandboxSession>("checkout", id)).url! }));
  }

  /** A sandbox checkout session with its line items, for the hosted page. */
  session(id: string): Promise<SandboxSession> {
    return this.#get<SandboxSession>("checkout", id);
  }

  async retrieveCheckoutSession(_acct: AccountRef, id: string): Promise<StripeCheckoutSession> {
    const { account: _a, line_items_expanded: _l, subscription_metadata: _m, ...s } = await this
      .session(id);
    return s;
  }

  async #claimSession(
    id: string,
    from: "open",
    to: "complete" | "expired",
    patch: Partial<SandboxSession> = {},
  ) {
    return await retryAtomic("update the sandbox checkout", async () => {
      const cur = await this.#kv.get<SandboxSession>(sandboxKeys.object("checkout", id));
      if (!cur.value) throw new NotFoundError(`No sandbox checkout session ${id}`);
      if (cur.value.status !== from) return null;
      const next = { ...cur.value, ...patch, status: to };
      // a finished session leaves the clock's index and is kept a while for lookups only
      const res = await this.#kv.atomic().check(cur)
        .set(cur.key, next, { expireIn: FINISHED_SESSION_TTL_MS })
        .delete(sandboxKeys.due("checkout", cur.value.expires_at!, id))
        .commit();
      return res.ok ? next : RETRY;
    });
  }

  /**
   * What the Pay button does (test card 4242…): creates the customer and, in subscription mode,
   * the subscription; emits `customer.subscription.created`, `checkout.session.completed` and
   * `invoice.paid`. False when the session was no longer open.
   */
  async completeCheckout(id: string, email?: string): Promise<SandboxSession | null> {
    const open = await this.session(id);
    const customer = open.customer ?? this.#id("cus");
    const acct = open.account;
    let subscription: StripeSubscription | null = null;
    if (open.mode === "subscription") {
      const li = open.line_items_expanded[0]!;
      const start = this.#now();
      const end = Date.parse(
        addInterval(
          new Date(start).toISOString(),
          li.price.recurring?.interval === "year" ? "year" : "month",
        ),
      );
      const subId = this.#id("sub");
      subscription = this.#subscription(
        subId,
        customer,
        li.price,
        sec(start),
        sec(end),
        open.subscription_metadata,
      );
    }
    const done = await this.#claimSession(id, "open", "complete", {
      customer,
      payment_status: "paid",
      subscription: subscription?.id ?? null,
      customer_details: { email: email ?? open.customer_email ?? "buyer@example.com" },
      payment_intent: open.mode === "payment" ? this.#id("pi") : null,
    } as Partial<SandboxSession>);
    if (!done) return null;
    if (!open.customer) {
      await this.#put(
        "customer",
        customer,
        stripeShape("customer", {
          id: customer,
          email: email ?? open.customer_email ?? null,
          discount: null,
          created: sec(this.#now()),
        }),
      );
    }
    if (subscription) {
      await this.#saveSubscription(subscription, acct);
      await this.emit(
        "customer.subscription.created",
        subscription as unknown as Record<string, unknown>,
        acct,
      );
    }
    const { account: _a, line_items_expanded: _l, subscription_metadata: _m, ...publicSession } =
      done;
    await this.emit(
      "checkout.session.completed",
      publicSession as unknown as Record<string, unknown>,
      acct,
    );
    if (subscription) await this.#emitInvoice("invoice.paid", subscription, acct);
    return done;
  }

  /** Abandons (or expires) an open session: `checkout.session.expired`, as Stripe sends for both. */
  async expireCheckout(id: string): Promise<SandboxSession | null> {
    const done = await this.#claimSession(id, "open", "expired", { expires_at: sec(this.#now()) });
    if (!done) return null;
    const { account, line_items_expanded: _l, subscription_metadata: _m, ...publicSession } = done;
    await this.emit(
      "checkout.session.expired",
      publicSession as unknown as Record<string, unknown>,
      account,
    );
    return done;
  }

  async expireCheckoutSession(_acct: AccountRef, id: string) {
    await this.expireCheckout(id);
  }

  #subscription(
    id: string,
    customer: string,
    price: StripePrice,
    start: number,
    end: number,
    metadata: Record<string, string>,
  ): StripeSubscription {
    const item = stripeShape<StripeSubscription["items"]["data"][number]>("subscription_item", {
      id: this.#id("si"),
      price,
      quantity: 1,
      subscription: id,
      created: start,
      current_period_start: start,
      current_period_end: end,
      plan: null,
    });
    return stripeShape<StripeSubscription>("subscription", {
      id,
      customer,
      status: "active",
      cancel_at_period_end: false,
      cancel_at: null,
      canceled_at: null,
      ended_at: null,
      created: start,
      start_date: start,
      billing_cycle_anchor: start,
      billing_cycle_anchor_config: null,
      currency: price.currency,
      metadata,
      livemode: false,
      latest_invoice: null,
      items: {
        object: "list",
        data: [item],
        has_more: false,
        url: `/v1/subscription_items?subscription=${id}`,
      },
    });
  }

  async #emitInvoice(type: string, sub: StripeSubscription, account: string | null) {
    const item = sub.items.data[0]!;
    const amount = (item.price.unit_amount ?? 0) * (item.quantity ?? 1);
    const invoice = stripeShape("invoice", {
      id: this.#id("in"),
      customer: sub.customer,
      subscription: sub.id,
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: sub.id, metadata: sub.metadata },
      },
      status: type === "invoice.paid" ? "paid" : "open",
      amount_due: amount,
      amount_paid: type === "invoice.paid" ? amount : 0,
      amount_remaining: type === "invoice.paid" ? 0 : amount,
      currency: item.price.currency,
      created: sec(this.#now()),
      billing_reason: "subscription_cycle",
      period_start: item.current_period_start,
      period_end: item.current_period_end,
      last_finalization_error: null,
      from_invoice: null,
      lines: {
        object: "list",
        has_more: false,
        url: "/v1/invoices/lines",
        data: [{
          id: this.#id("il"),
          object: "line_item",
          amount,
          currency: item.price.currency,
          period: { start: item.current_period_start, end: item.current_period_end },
          quantity: item.quantity ?? 1,
          pricing: {
            type: "price_details",
            price_details: { price: item.price.id, product: item.price.product },
          },
        }],
      },
    });
    await this.emit(type, invoice as Record<string, unknown>, account);
  }

  async retrieveSubscription(_acct: AccountRef, id: string): Promise<StripeSubscription> {
    const { account: _a, ...sub } = await this.#get<
      StripeSubscription & { account: string | null }
    >("subscription", id);
    return sub;
  }

  async listSubscriptions(acct: AccountRef, o: { startingAfter?: string }) {
    const data: StripeSubscription[] = [];
    const iter = this.#kv.list<StripeSubscription & { account: string | null }>({
      prefix: sandboxKeys.list("subscription"),
      ...(o.startingAfter
        ? { start: [...sandboxKeys.object("subscription", o.startingAfter), ""] }
        : {}),
    });
    for await (const e of iter) {
      if (e.value.account !== acct.accountId) continue;
      const { account: _a, ...sub } = e.value;
      data.push(sub);
      if (data.length === 100) return { data, hasMore: true };
    }
    return { data, hasMore: false };
  }

  /** Cancel at period end, undo it, or switch price (prorated): `customer.subscription.updated`. */
  async updateSubscription(
    _acct: AccountRef,
    id: string,
    o: { cancelAtPeriodEnd?: boolean; price?: string },
  ) {
    const stored = await this.#get<StripeSubscription & { account: string | null }>(
      "subscription",
      id,
    );
    const { account, ...cur } = stored;
    if (cur.status === "canceled") throw new ValidationError("This subscription has ended");
    let next: StripeSubscription = { ...cur };
    if (o.cancelAtPeriodEnd !== undefined) {
      const end = cur.items.data[0]?.current_period_end ?? null;
      next = {
        ...next,
        cancel_at_period_end: o.cancelAtPeriodEnd,
        canceled_at: o.cancelAtPeriodEnd ? sec(this.#now()) : null,
        ...({ cancel_at: o.cancelAtPeriodEnd ? end : null } as object),
      };
    }
    if (o.price) {
      const price = await this.#get<StripePrice>("price", o.price);
      if (!price.active) throw new ValidationError(`Price ${o.price} is archived`);
      next = {
        ...next,
        items: {
          ...next.items,
          data: next.items.data.map((it, i) => i === 0 ? { ...it, price } : it),
        },
      };
    }
    await this.#saveSubscription(next, account);
    await this.emit(
      "customer.subscription.updated",
      next as unknown as Record<string, unknown>,
      account,
    );
    if (o.price) await this.#emitInvoice("invoice.paid", next, account);
    return next;
  }

  /** Ends a subscription now: `customer.subscription.deleted`, like Stripe's cancel. */
  async cancelSubscription(_acct: AccountRef, id: string) {
    const { account, ...cur } = await this.#get<StripeSubscription & { account: string | null }>(
      "subscription",
      id,
    );
    if (cur.status === "canceled") return cur;
    const now = sec(this.#now());
    const ended = {
      ...cur,
      status: "canceled",
      canceled_at: now,
      ...({ ended_at: now } as object),
    } as StripeSubscription;
    await this.#saveSubscription(ended, account);
    await this.emit(
      "customer.subscription.deleted",
      ended as unknown as Record<string, unknown>,
      account,
    );
    return ended;
  }

  createCustomer(
    _acct: AccountRef,
    o: {
      email: string | null;
      name: string | null;
      metadata: Record<string, string>;
      idempotencyKey: string;
    },
  ) {
    return this.#once(o.idempotencyKey, async () => {
      const id = this.#id("cus");
      await this.#put(
        "customer",
        id,
        stripeShape("customer", {
          id,
          email: o.email,
          name: o.name,
          metadata: o.metadata,
          discount: null,
          created: sec(this.#now()),
        }),
      );
      return id;
    });
  }

  async createPortalSession(
    acct: AccountRef,
    o: { customer: string; returnUrl: string; origin: string },
  ) {
    const id = `bps_${randomBase62(24)}`;
    const portal: SandboxPortal = {
      id,
      account: acct.accountId,
      customer: o.customer,
      return_url: o.returnUrl,
    };
    await this.#kv.set(sandboxKeys.object("portal", id), portal, { expireIn: 24 * 3600_000 });
    return { url: `${o.origin}/sandbox/portal/${id}` };
  }

  /** A portal session with the customer's live subscription, for the portal page and actions. */
  async portal(
    id: string,
  ): Promise<{ portal: SandboxPortal; subscription: StripeSubscription | null }> {
    const portal = await this.#get<SandboxPortal>("portal", id);
    let subscription: StripeSubscription | null = null;
    for await (
      const ptr of this.#kv.list({ prefix: sandboxKeys.listByCustomer(portal.customer) })
    ) {
      const subId = ptr.key[2] as string;
      const stored = (await this.#kv.get<StoredSubscription>(
        sandboxKeys.object("subscription", subId),
      )).value;
      if (stored && stored.account === portal.account && stored.status !== "canceled") {
        const { account: _a, ...sub } = stored;
        subscription = sub;
      }
    }
    return { portal, subscription };
  }

  #ticking: Promise<number> | null = null;

  /**
   * Moves sandbox time forward to now: subscriptions past their period end renew
   * (`invoice.paid`, `customer.subscription.updated`) or, when canceling, end
   * (`customer.subscription.deleted`); open checkout sessions past `expires_at` expire. Reads
   * only the due index up to now, so its cost follows what is due, not everything ever made.
   * A tick asked for while one runs joins it (ticks never overlap).
   */
  tick(): Promise<number> {
    if (this.#ticking) return this.#ticking;
    this.#ticking = this.#tick().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  /** Indexes what was stored before the due index existed (once per store). */
  async #backfill() {
    const marker = ["sandbox_due_backfilled"];
    if ((await this.#kv.get(marker)).versionstamp) return;
    for await (
      const e of this.#kv.list<StoredSubscription>({ prefix: sandboxKeys.list("subscription") })
    ) {
      const { account, ...sub } = e.value;
      await this.#saveSubscription(sub, account);
    }
    for await (const e of this.#kv.list<SandboxSession>({ prefix: sandboxKeys.list("checkout") })) {
      if (e.value.status === "open") {
        await this.#kv.set(sandboxKeys.due("checkout", e.value.expires_at!, e.value.id), true);
      }
    }
    await this.#kv.set(marker, true);
  }

  async #tick(): Promise<number> {
    await this.#backfill();
    const now = sec(this.#now());
    const upTo = (kind: "checkout" | "subscription") => ({
      start: sandboxKeys.listDue(kind),
      end: [...sandboxKeys.listDue(kind), new Date((now + 1) * 1000).toISOString()],
    });
    let changed = 0;
    for await (const due of this.#kv.list(upTo("subscription"), { limit: 1000 })) {
      const id = due.key[3] as string;
      const stored = (await this.#kv.get<StoredSubscription>(
        sandboxKeys.object("subscription", id),
      )).value;
      const item = stored?.items.data[0];
      if (
        !stored || !item || stored.status === "canceled" ||
        (item.current_period_end ?? Infinity) > now
      ) {
        await this.#kv.delete(due.key); // stale entry: the subscription moved on
        continue;
      }
      const { account, ...sub } = stored;
      changed++;
      if (sub.cancel_at_period_end) {
        const ended = {
          ...sub,
          status: "canceled",
          ...({ ended_at: item.current_period_end } as object),
        };
        await this.#saveSubscription(ended as StripeSubscription, account);
        await this.emit(
          "customer.subscription.deleted",
          ended as unknown as Record<string, unknown>,
          account,
        );
        continue;
      }
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
      await this.#saveSubscription(renewed, account);
      await this.#emitInvoice("invoice.paid", renewed, account);
      await this.emit(
        "customer.subscription.updated",
        renewed as unknown as Record<string, unknown>,
        account,
      );
    }
    for await (const due of this.#kv.list(upTo("checkout"), { limit: 1000 })) {
      const id = due.key[3] as string;
      if (await this.expireCheckout(id).catch(() => null)) changed++;
      else await this.#kv.delete(due.key); // finished or gone meanwhile
    }
    return changed;
  }

  verifyEvent(rawBody: string, signature: string, nowSeconds: number) {
    return verifySignedEvent(this.#stripe, rawBody, signature, [this.#secret], nowSeconds);
  }
}
