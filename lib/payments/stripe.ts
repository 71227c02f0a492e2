/**
 * The Stripe provider: npm:stripe against the platform's keys, acting on the developer's
 * connected account with `stripeAccount` (test-mode key for pk_test_ projects, live for
 * pk_live_). Connect uses Account Links on Standard accounts: the developer keeps a full Stripe
 * account of their own, we store only its `acct_…` id (not a secret), and no OAuth token is
 * ever held.
 */
import Stripe from "stripe";
import {
  type AccountRef,
  type CheckoutRequest,
  type ConnectStart,
  type MeteredPriceRequest,
  type MeterEventRequest,
  type MeterRequest,
  type OneOffInvoiceRequest,
  type PaymentProvider,
  type PriceRequest,
  type ProductRequest,
  type ProductUpdate,
  type PromotionCodeRequest,
  type RefundRequest,
  type StripeCheckoutSession,
  type StripeEvent,
  type StripeSubscription,
  type SubscriptionUpdate,
  switchItems,
} from "@/lib/payments/provider.ts";
import { isMissing } from "@/lib/payments/failures.ts";
import { verifySignedEvent } from "@/lib/payments/signature.ts";
import type { Mode } from "@/lib/ids.ts";
import { AppError, ConflictError } from "@/lib/errors.ts";

export interface StripeOptions {
  secretKeyTest: string;
  secretKeyLive: string | null;
  webhookSecrets: string[];
  /** For tests: a local Stripe-API double. */
  host?: { host: string; port: number; protocol: "http" | "https" } | undefined;
}

export class StripeProvider implements PaymentProvider {
  readonly kind = "stripe" as const;
  readonly formOrigins = [
    "https://checkout.stripe.com",
    "https://billing.stripe.com",
    "https://connect.stripe.com",
  ];
  #test: Stripe;
  #live: Stripe | null;
  #secrets: string[];

  constructor(o: StripeOptions) {
    const common = {
      httpClient: Stripe.createFetchHttpClient(),
      maxNetworkRetries: 2,
      ...(o.host ?? {}),
    };
    this.#test = new Stripe(o.secretKeyTest, common);
    this.#live = o.secretKeyLive ? new Stripe(o.secretKeyLive, common) : null;
    this.#secrets = o.webhookSecrets;
  }

  #client(mode: Mode): Stripe {
    if (mode === "live") {
      if (!this.#live) {
        throw new AppError(
          "forbidden",
          "Live payments are not configured (STRIPE_SECRET_KEY_LIVE)",
        );
      }
      return this.#live;
    }
    return this.#test;
  }

  #opts(acct: AccountRef, idempotencyKey?: string): Stripe.RequestOptions {
    return {
      ...(acct.accountId ? { stripeAccount: acct.accountId } : {}),
      ...(idempotencyKey ? { idempotencyKey } : {}),
    };
  }

  async startConnect(o: ConnectStart) {
    const stripe = this.#client(o.mode);
    const accountId = o.accountId ??
      (await stripe.accounts.create({ type: "standard", email: o.email }, {
        idempotencyKey: o.idempotencyKey,
      })).id;
    const back = `${o.callbackUrl}?state=${encodeURIComponent(o.state)}`;
    const link = await stripe.accountLinks.create({
      account: accountId,
      type: "account_onboarding",
      refresh_url: back,
      return_url: back,
    });
    return { url: link.url, accountId };
  }

  async accountReady(acct: AccountRef): Promise<boolean> {
    if (!acct.accountId) return true;
    const a = await this.#client(acct.mode).accounts.retrieve(acct.accountId);
    return Boolean(a.details_submitted);
  }

  async createProduct(acct: AccountRef, o: ProductRequest) {
    const p = await this.#client(acct.mode).products.create({
      name: o.name,
      ...(o.description ? { description: o.description } : {}),
      images: o.images,
      metadata: o.metadata,
    }, this.#opts(acct, o.idempotencyKey));
    return p.id;
  }

  async updateProduct(acct: AccountRef, id: string, o: ProductUpdate) {
    await this.#client(acct.mode).products.update(id, {
      name: o.name,
      description: o.description ?? "",
      images: o.images,
      ...(o.active !== undefined ? { active: o.active } : {}),
    }, this.#opts(acct));
  }

  async createPrice(acct: AccountRef, o: PriceRequest) {
    const p = await this.#client(acct.mode).prices.create({
      product: o.product,
      unit_amount: o.unitAmount,
      currency: o.currency,
      ...(o.interval ? { recurring: { interval: o.interval } } : {}),
      metadata: o.metadata,
    }, this.#opts(acct, o.idempotencyKey));
    return p.id;
  }

  async archivePrice(acct: AccountRef, id: string) {
    await this.#client(acct.mode).prices.update(id, { active: false }, this.#opts(acct));
  }

  async priceState(acct: AccountRef, id: string) {
    try {
      const p = await this.#client(acct.mode).prices
        .retrieve(id, { expand: ["product"] }, this.#opts(acct));
      const product = p.product as Stripe.Product | Stripe.DeletedProduct;
      const state = (on: boolean) => on ? "active" as const : "archived" as const;
      return {
        price: state(p.active),
        product: "deleted" in product && product.deleted ? "missing" as const : state(
          (product as Stripe.Product).active,
        ),
      };
    } catch (err) {
      if (isMissing(err)) return { price: "missing" as const, product: "missing" as const };
      throw err;
    }
  }

  async createCheckoutSession(acct: AccountRef, o: CheckoutRequest) {
    const s = await this.#client(acct.mode).checkout.sessions.create({
      mode: o.mode,
      line_items: o.lineItems,
      success_url: o.successUrl,
      cancel_url: o.cancelUrl,
      metadata: o.metadata,
      ...(o.customer
        ? { customer: o.customer }
        : o.customerEmail
        ? { customer_email: o.customerEmail }
        : {}),
      ...(o.clientReferenceId ? { client_reference_id: o.clientReferenceId } : {}),
      ...(o.mode === "subscription"
        ? {
          subscription_data: {
            metadata: o.subscriptionMetadata ?? o.metadata,
            ...(o.trialDays ? { trial_period_days: o.trialDays } : {}),
          },
        }
        : {}),
      ...(o.mode === "payment" ? { payment_intent_data: { metadata: o.metadata } } : {}),
      ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
      ...(o.promotionCode ? { discounts: [{ promotion_code: o.promotionCode }] } : {}),
      // Stripe Tax needs the buyer's address: Checkout collects it (and saves it on a customer
      // we pass), https://docs.stripe.com/tax/checkout
      ...(o.automaticTax
        ? {
          automatic_tax: { enabled: true },
          billing_address_collection: "required" as const,
          ...(o.customer ? { customer_update: { address: "auto" as const } } : {}),
        }
        : {}),
    }, this.#opts(acct, o.idempotencyKey));
    return { id: s.id, url: s.url ?? "" };
  }

  /**
   * A coupon, then its promotion code (https://docs.stripe.com/billing/subscriptions/coupons):
   * the code customers type is the promotion code; the coupon holds the discount.
   */
  async createPromotionCode(acct: AccountRef, o: PromotionCodeRequest) {
    const stripe = this.#client(acct.mode);
    const coupon = await stripe.coupons.create({
      ...(o.percentOff !== null
        ? { percent_off: o.percentOff }
        : { amount_off: o.amountOff!, currency: o.currency }),
      duration: o.duration,
      ...(o.duration === "repeating" ? { duration_in_months: o.durationInMonths! } : {}),
      ...(o.maxRedemptions ? { max_redemptions: o.maxRedemptions } : {}),
      ...(o.expiresAt ? { redeem_by: o.expiresAt } : {}),
      name: o.code,
    }, this.#opts(acct, `${o.idempotencyKey}_coupon`));
    const promo = await stripe.promotionCodes.create({
      promotion: { type: "coupon", coupon: coupon.id },
      code: o.code,
      ...(o.maxRedemptions ? { max_redemptions: o.maxRedemptions } : {}),
      ...(o.expiresAt ? { expires_at: o.expiresAt } : {}),
    }, this.#opts(acct, `${o.idempotencyKey}_promo`));
    return { couponId: coupon.id, promotionCodeId: promo.id };
  }

  /** https://docs.stripe.com/billing/subscriptions/usage-based/meters/configure */
  async createMeter(acct: AccountRef, o: MeterRequest) {
    const m = await this.#client(acct.mode).billing.meters.create({
      display_name: o.displayName,
      event_name: o.eventName,
      default_aggregation: { formula: "sum" },
      customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
      value_settings: { event_payload_key: "value" },
    }, this.#opts(acct, o.idempotencyKey));
    return m.id;
  }

  /** A metered price on the meter: `per` calls make one billed unit, rounded up. */
  async createMeteredPrice(acct: AccountRef, o: MeteredPriceRequest) {
    const p = await this.#client(acct.mode).prices.create({
      product: o.product,
      currency: o.currency,
      unit_amount: o.unitAmount,
      recurring: { interval: o.interval, usage_type: "metered", meter: o.meter },
      ...(o.per > 1 ? { transform_quantity: { divide_by: o.per, round: "up" as const } } : {}),
      metadata: o.metadata,
    }, this.#opts(acct, o.idempotencyKey));
    return p.id;
  }

  /**
   * https://docs.stripe.com/billing/subscriptions/usage-based/recording-usage-api: the
   * `identifier` deduplicates a repeated report; reported inside the invoice's finalization
   * grace period (1 hour by default,
   * https://docs.stripe.com/billing/subscriptions/usage-based/configure-grace-period) it lands on
   * the invoice of the period it names.
   */
  async reportMeterEvent(acct: AccountRef, o: MeterEventRequest) {
    await this.#client(acct.mode).billing.meterEvents.create({
      event_name: o.eventName,
      payload: { stripe_customer_id: o.customer, value: String(o.value) },
      identifier: o.identifier,
      timestamp: o.timestamp,
    }, this.#opts(acct, `meter_${o.identifier}`));
  }

  /**
   * A one-off invoice (https://docs.stripe.com/invoicing/integration): drafted without the
   * customer's other pending items, the amount added as an invoice item, finalized with
   * `auto_advance` so that Stripe collects it from the card given (Checkout saves it on the
   * subscription, `default_payment_method`, not as the customer's default).
   */
  async invoiceOnce(acct: AccountRef, o: OneOffInvoiceRequest) {
    const stripe = this.#client(acct.mode);
    const { customer, currency, description, metadata } = o;
    // each call keyed (a retried whole gets the first answers: finalizing twice is an error)
    const keyed = (step: string) => this.#opts(acct, `${o.idempotencyKey}_${step}`);
    const invoice = await stripe.invoices.create({
      customer,
      currency,
      auto_advance: true,
      pending_invoice_items_behavior: "exclude",
      ...(o.paymentMethod ? { default_payment_method: o.paymentMethod } : {}),
      description,
      metadata,
    }, keyed("invoice"));
    await stripe.invoiceItems.create(
      { customer, invoice: invoice.id, amount: o.amount, currency, description, metadata },
      keyed("item"),
    );
    await stripe.invoices.finalizeInvoice(invoice.id, { auto_advance: true }, keyed("finalize"));
    return { id: invoice.id };
  }

  async deactivatePromotionCode(acct: AccountRef, id: string) {
    await this.#client(acct.mode).promotionCodes.update(id, { active: false }, this.#opts(acct));
  }

  async expireCheckoutSession(acct: AccountRef, id: string) {
    await this.#client(acct.mode).checkout.sessions.expire(id, {}, this.#opts(acct));
  }

  async retrieveCheckoutSession(acct: AccountRef, id: string) {
    return (await this.#client(acct.mode).checkout.sessions.retrieve(
      id,
      {},
      this.#opts(acct),
    )) as unknown as StripeCheckoutSession;
  }

  async refundPayment(acct: AccountRef, o: RefundRequest) {
    const stripe = this.#client(acct.mode);
    const session = await stripe.checkout.sessions.retrieve(o.sessionId, {}, this.#opts(acct));
    const pi = typeof session.payment_intent === "string"
      ? session.payment_intent
      : session.payment_intent?.id;
    if (!pi) throw new ConflictError("This checkout has no payment to refund");
    const refund = await stripe.refunds.create(
      { payment_intent: pi, amount: o.amount, metadata: o.metadata },
      this.#opts(acct, o.idempotencyKey),
    );
    return { id: refund.id, amount: refund.amount };
  }

  async retrieveSubscription(acct: AccountRef, id: string) {
    return (await this.#client(acct.mode).subscriptions.retrieve(
      id,
      {},
      this.#opts(acct),
    )) as unknown as StripeSubscription;
  }

  async listSubscriptions(acct: AccountRef, o: { startingAfter?: string }) {
    const page = await this.#client(acct.mode).subscriptions.list({
      status: "all",
      limit: 100,
      ...(o.startingAfter ? { starting_after: o.startingAfter } : {}),
    }, this.#opts(acct));
    return { data: page.data as unknown as StripeSubscription[], hasMore: page.has_more };
  }

  async updateSubscription(acct: AccountRef, id: string, o: SubscriptionUpdate) {
    const stripe = this.#client(acct.mode);
    const params: Stripe.SubscriptionUpdateParams = {};
    if (o.cancelAtPeriodEnd !== undefined) params.cancel_at_period_end = o.cancelAtPeriodEnd;
    if (o.price) {
      const cur = await stripe.subscriptions.retrieve(id, {}, this.#opts(acct));
      params.items = switchItems(cur.items.data as unknown as StripeSubscription["items"]["data"], {
        price: o.price,
        overagePrice: o.overagePrice,
      });
      // without proration the current period stays paid at the old price; the next invoice
      // (the renewal) charges the new one
      params.proration_behavior = o.prorate === false ? "none" : "create_prorations";
    }
    return (await stripe.subscriptions.update(
      id,
      params,
      this.#opts(acct, o.idempotencyKey),
    )) as unknown as StripeSubscription;
  }

  async cancelSubscription(acct: AccountRef, id: string, o: { idempotencyKey: string }) {
    const stripe = this.#client(acct.mode);
    return (await stripe.subscriptions.cancel(
      id,
      {},
      this.#opts(acct, o.idempotencyKey),
    )) as unknown as StripeSubscription;
  }

  async createCustomer(
    acct: AccountRef,
    o: {
      email: string | null;
      name: string | null;
      metadata: Record<string, string>;
      idempotencyKey: string;
    },
  ) {
    const c = await this.#client(acct.mode).customers.create({
      ...(o.email ? { email: o.email } : {}),
      ...(o.name ? { name: o.name } : {}),
      metadata: o.metadata,
    }, this.#opts(acct, o.idempotencyKey));
    return c.id;
  }

  async createPortalSession(acct: AccountRef, o: { customer: string; returnUrl: string }) {
    const s = await this.#client(acct.mode).billingPortal.sessions.create(
      { customer: o.customer, return_url: o.returnUrl },
      this.#opts(acct),
    );
    return { url: s.url };
  }

  verifyEvent(rawBody: string, signature: string, nowSeconds: number): Promise<StripeEvent> {
    return verifySignedEvent(this.#test, {
      raw: rawBody,
      header: signature,
      secrets: this.#secrets,
      nowSeconds,
    });
  }
}
