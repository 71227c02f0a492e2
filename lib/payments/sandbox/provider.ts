/**
 * The sandbox payment provider: an offline stand-in for Stripe on this server. Checkout and
 * portal sessions are pages of this server (routes/sandbox.tsx); paying, cancelling, switching
 * and period ends produce Stripe-shaped objects (`objects.ts`, from Stripe's fixtures) and signed
 * events that go through the same `/webhook/stripe` code as real ones, before the action answers
 * (`flows.ts`); its clock moves subscriptions and sessions on (`clock.ts`). Its store is
 * `lib/kv/sandbox.ts`.
 */
import Stripe from "stripe";
import type {
  AccountRef,
  CheckoutRequest,
  MeteredPriceRequest,
  MeterEventRequest,
  MeterRequest,
  OneOffInvoiceRequest,
  PaymentProvider,
  PriceRequest,
  ProductRequest,
  ProductUpdate,
  PromotionCodeRequest,
  RefundRequest,
  StripeCheckoutSession,
  StripePrice,
  StripeSubscription,
  SubscriptionUpdate,
} from "@/lib/payments/provider.ts";
import {
  createMeter,
  createMeteredPrice,
  reportMeterEvent,
} from "@/lib/payments/sandbox/metering.ts";
import {
  createPromotionCode,
  deactivatePromotionCode,
  withDiscount,
} from "@/lib/payments/sandbox/discounts.ts";
import { signPayload, verifySignedEvent } from "@/lib/payments/signature.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { ValidationError } from "@/lib/errors.ts";
import { SandboxStore, type Staged } from "@/lib/kv/sandbox.ts";
import { SandboxOutboxStore } from "@/lib/kv/sandbox_outbox.ts";
import {
  customerObject,
  eventJson,
  type EventSpec,
  newId,
  priceObject,
  productObject,
  publicSession,
  type SandboxPortal,
  type SandboxSession,
  sec,
  sessionObject,
} from "@/lib/payments/sandbox/objects.ts";
import {
  cancelSubscription,
  completeCheckout,
  expireCheckout,
  invoiceOnce,
  portalOf,
  refundPayment,
  type SandboxContext,
  updateSubscription,
} from "@/lib/payments/sandbox/flows.ts";
import { SandboxClock } from "@/lib/payments/sandbox/clock.ts";
import { SandboxOutbox } from "@/lib/payments/sandbox/outbox.ts";

export type { SandboxPortal, SandboxSession };

type Deliver = (payload: string, signature: string) => Promise<void>;

export class SandboxProvider implements PaymentProvider {
  readonly kind = "sandbox" as const;
  /** Its pages are this server's own. */
  readonly formOrigins: string[] = [];
  #store: SandboxStore;
  #now: () => number;
  #secret: string;
  #stripe = new Stripe("sk_test_sandbox_signing_only");
  #deliver: Deliver | null = null;
  #ctx: SandboxContext;
  #clock: SandboxClock;
  #outbox: SandboxOutbox;
  /** The tick in flight: a tick asked for meanwhile joins it. */
  #ticking: Promise<number> | null = null;

  constructor(kv: Deno.Kv, now: () => number, webhookSecret: string) {
    this.#store = new SandboxStore(kv);
    this.#now = now;
    this.#secret = webhookSecret;
    this.#ctx = {
      store: this.#store,
      now,
      events: (specs) => this.#outbox.kept(specs.map((e) => eventJson(e, now()))),
      send: (events) => this.#outbox.send(events),
      emit: (e) => this.emit(e),
    };
    this.#clock = new SandboxClock(this.#ctx);
    this.#outbox = new SandboxOutbox(
      new SandboxOutboxStore(kv),
      now,
      (payload) => this.#send(payload),
    );
  }

  /** Where signed events go: the app's own `/webhook/stripe` handler. */
  attach(deliver: Deliver) {
    this.#deliver = deliver;
  }

  /**
   * Makes one event and delivers it through the webhook route on its own (`SandboxOutbox`):
   * applied before this answers when the route takes it, else kept and sent again by the clock
   * until it does. (The flows keep theirs in the commit that makes what they tell of.)
   */
  async emit(spec: EventSpec) {
    const event = eventJson(spec, this.#now());
    await this.#outbox.deliver(event.id, event.payload);
    return event;
  }

  /** The id an idempotency key stands for, its objects made by the first call (`once`). */
  async #made(key: string, make: () => Staged | Promise<Staged>): Promise<string> {
    return (await this.#store.once(key, make)).id;
  }

  /** Signs a payload now (each attempt anew, as Stripe does) and sends it; throws if refused. */
  async #send(payload: string): Promise<void> {
    const header = await signPayload(this.#stripe, {
      payload,
      secret: this.#secret,
      timestamp: sec(this.#now()),
    });
    if (!this.#deliver) throw new Error("sandbox has no webhook receiver attached");
    await this.#deliver(payload, header);
  }

  startConnect(
    o: { origin: string; callbackUrl: string; state: string; accountId?: string | undefined },
  ) {
    const accountId = o.accountId ?? `acct_sandbox${randomBase62(12)}`;
    return Promise.resolve({
      accountId,
      url: `${o.callbackUrl}?state=${encodeURIComponent(o.state)}`,
    });
  }

  accountReady(): Promise<boolean> {
    return Promise.resolve(true);
  }

  createProduct(acct: AccountRef, o: ProductRequest) {
    return this.#made(o.idempotencyKey, () => {
      const id = newId("prod");
      const { idempotencyKey: _k, metadata, ...fields } = o;
      const live = acct.mode === "live";
      const value = productObject({ id, ...fields }, { metadata, live, now: this.#now() });
      return { id, objects: [{ kind: "product", id, value }] };
    });
  }

  async updateProduct(_acct: AccountRef, id: string, o: ProductUpdate) {
    const p = await this.#store.get<Record<string, unknown>>("product", id);
    await this.#store.put("product", id, { ...p, ...o, updated: sec(this.#now()) });
  }

  createPrice(acct: AccountRef, o: PriceRequest) {
    return this.#made(o.idempotencyKey, () => {
      const id = newId("price");
      const value = priceObject({ id, ...o }, { live: acct.mode === "live", now: this.#now() });
      return { id, objects: [{ kind: "price", id, value }] };
    });
  }

  async archivePrice(_acct: AccountRef, id: string) {
    const p = await this.#store.get<StripePrice>("price", id);
    await this.#store.put("price", id, { ...p, active: false });
  }

  async priceState(_acct: AccountRef, id: string) {
    const state = (o: { active?: boolean } | null) =>
      o === null
        ? "missing" as const
        : o.active === false
        ? "archived" as const
        : "active" as const;
    const price = await this.#store.find<StripePrice>("price", id);
    const product = price && await this.#store.find<{ active?: boolean }>("product", price.product);
    return { price: state(price), product: state(product ?? null) };
  }

  async createCheckoutSession(acct: AccountRef, o: CheckoutRequest) {
    const id = await this.#made(o.idempotencyKey, async () => {
      const items: SandboxSession["line_items_expanded"] = [];
      for (const li of o.lineItems) {
        const price = await this.#store.get<StripePrice>("price", li.price);
        if (!price.active) throw new ValidationError(`Price ${li.price} is archived`);
        const product = await this.#store.get<{ name: string }>("product", price.product);
        items.push({ price, quantity: li.quantity ?? 0, productName: product.name });
      }
      let session = sessionObject({
        ...o,
        id: `cs_test_${randomBase62(40)}`,
        account: acct.accountId,
        live: acct.mode === "live",
        now: this.#now(),
      }, items);
      if (o.promotionCode) session = await withDiscount(this.#store, session, o.promotionCode);
      return {
        id: session.id,
        objects: [{ kind: "checkout", id: session.id, value: session }],
        due: { kind: "checkout", atSeconds: session.expires_at!, id: session.id },
      };
    });
    return { id, url: (await this.session(id)).url! };
  }

  createMeter(_acct: AccountRef, o: MeterRequest) {
    return createMeter(this.#store, { ...o, now: this.#now() });
  }

  createMeteredPrice(acct: AccountRef, o: MeteredPriceRequest) {
    return createMeteredPrice(this.#store, acct, { ...o, now: this.#now() });
  }

  reportMeterEvent(_acct: AccountRef, o: MeterEventRequest) {
    return reportMeterEvent(this.#store, o);
  }

  invoiceOnce(acct: AccountRef, o: OneOffInvoiceRequest) {
    return invoiceOnce(this.#ctx, acct.accountId, o);
  }

  createPromotionCode(acct: AccountRef, o: PromotionCodeRequest) {
    return createPromotionCode(this.#store, acct, { ...o, now: this.#now() });
  }

  deactivatePromotionCode(_acct: AccountRef, id: string) {
    return deactivatePromotionCode(this.#store, id);
  }

  /**
   * A code typed on the hosted page: the open session gets its discount (and `metadata`, so the
   * subscription names the code as an API-given one would).
   */
  async applyPromotionCode(
    id: string,
    o: { promotionCode: string; metadata: Record<string, string> },
  ) {
    const open = await this.session(id);
    if (open.status !== "open") return open;
    const next = await withDiscount(this.#store, open, o.promotionCode);
    const updated = {
      ...next,
      metadata: { ...open.metadata, ...o.metadata },
      subscription_metadata: { ...open.subscription_metadata, ...o.metadata },
    };
    await this.#store.put("checkout", id, updated);
    return updated;
  }

  /** A sandbox checkout session with its line items, for the hosted page. */
  session(id: string): Promise<SandboxSession> {
    return this.#store.get<SandboxSession>("checkout", id);
  }

  async retrieveCheckoutSession(_acct: AccountRef, id: string): Promise<StripeCheckoutSession> {
    return publicSession(await this.session(id));
  }

  /** What the Pay button does; null when the session was no longer open. */
  completeCheckout(
    id: string,
    o: { email?: string | undefined; card?: string | undefined } = {},
  ): Promise<SandboxSession | null> {
    return completeCheckout(this.#ctx, id, o);
  }

  /** Abandons (or expires) an open session; null when it was no longer open. */
  expireCheckout(id: string): Promise<SandboxSession | null> {
    return expireCheckout(this.#ctx, id);
  }

  refundPayment(_acct: AccountRef, o: RefundRequest): Promise<{ id: string; amount: number }> {
    return refundPayment(this.#ctx, o); // like Stripe, a retry with the same key gets the first
  }

  async expireCheckoutSession(_acct: AccountRef, id: string) {
    await expireCheckout(this.#ctx, id);
  }

  async retrieveSubscription(_acct: AccountRef, id: string): Promise<StripeSubscription> {
    const { account: _a, ...sub } = await this.#store.get<
      StripeSubscription & { account: string | null }
    >("subscription", id);
    return sub;
  }

  async listSubscriptions(acct: AccountRef, o: { startingAfter?: string }) {
    const data: StripeSubscription[] = [];
    for await (const stored of this.#store.subscriptions(o.startingAfter)) {
      if (stored.account !== acct.accountId) continue;
      const { account: _a, ...sub } = stored;
      data.push(sub);
      if (data.length === 100) return { data, hasMore: true };
    }
    return { data, hasMore: false };
  }

  updateSubscription(
    _acct: AccountRef,
    id: string,
    o: Omit<SubscriptionUpdate, "idempotencyKey">,
  ) {
    return updateSubscription(this.#ctx, id, o);
  }

  cancelSubscription(_acct: AccountRef, id: string) {
    return cancelSubscription(this.#ctx, id);
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
    return this.#made(o.idempotencyKey, () => {
      const id = newId("cus");
      const { idempotencyKey: _k, ...fields } = o;
      const value = customerObject({ id, ...fields }, this.#now());
      return { id, objects: [{ kind: "customer", id, value }] };
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
    await this.#store.put("portal", id, portal, 24 * 3600_000);
    return { url: `${o.origin}/sandbox/portal/${id}` };
  }

  /** A portal session with the customer's live subscription, for the portal page and actions. */
  portal(id: string) {
    return portalOf(this.#ctx, id);
  }

  /**
   * Moves sandbox time forward to now (see `SandboxClock`), then sends again the events the
   * webhook route has not taken yet; ticks never overlap.
   */
  tick(): Promise<number> {
    this.#ticking ??= this.#tickOnce().finally(() => {
      this.#ticking = null;
    });
    return this.#ticking;
  }

  async #tickOnce(): Promise<number> {
    // the events kept are sent again even when some due item failed (its error after)
    const moved = await this.#clock.tick().then((n) => ({ n }), (error) => ({ n: 0, error }));
    const sent = await this.#outbox.redeliver();
    if ("error" in moved) throw moved.error;
    return moved.n + sent;
  }

  verifyEvent(rawBody: string, signature: string, nowSeconds: number) {
    return verifySignedEvent(this.#stripe, {
      raw: rawBody,
      header: signature,
      secrets: [this.#secret],
      nowSeconds,
    });
  }
}
