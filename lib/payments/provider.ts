/**
 * The payment provider interface: one shape for real Stripe (`stripe.ts`, npm:stripe on the
 * developer's connected account) and the offline sandbox (`sandbox.ts`). Objects and events are
 * Stripe-shaped in both, so the webhook code is one.
 */
import type { Mode } from "@/lib/ids.ts";

/** Which connected account (null: the platform's own account) and which mode a call is for. */
export interface AccountRef {
  accountId: string | null;
  mode: Mode;
}

export interface StripePrice {
  id: string;
  object: "price";
  product: string;
  unit_amount: number | null;
  currency: string;
  active: boolean;
  recurring: {
    interval: "month" | "year" | "week" | "day";
    interval_count: number;
    /** "metered": billed by usage reported to a meter (a tier's overage); else "licensed". */
    usage_type?: string;
  } | null;
  metadata: Record<string, string>;
}

export interface StripeSubscription {
  id: string;
  object: "subscription";
  customer: string;
  status: string;
  cancel_at_period_end: boolean;
  canceled_at: number | null;
  /** When it ended (canceled now, or at its period's end), once it has. */
  ended_at?: number | null;
  /** The end of its trial, when it had one. */
  trial_end?: number | null;
  created: number;
  metadata: Record<string, string>;
  /** The card its invoices are charged to (Checkout sets it), when not the customer's default. */
  default_payment_method?: string | { id: string } | null;
  current_period_start?: number;
  current_period_end?: number;
  items: {
    data: {
      id: string;
      price: StripePrice;
      quantity?: number;
      current_period_start?: number;
      current_period_end?: number;
    }[];
  };
}

export interface StripeCheckoutSession {
  id: string;
  object: "checkout.session";
  mode: "subscription" | "payment" | "setup";
  status: "open" | "complete" | "expired" | null;
  payment_status: string;
  customer: string | null;
  customer_email?: string | null;
  customer_details?: { email: string | null } | null;
  subscription: string | null;
  metadata: Record<string, string>;
  client_reference_id: string | null;
  amount_total: number | null;
  currency: string | null;
  url: string | null;
  success_url?: string | null;
  cancel_url?: string | null;
  expires_at?: number;
  livemode?: boolean;
}

export interface StripeEvent {
  id: string;
  object: "event";
  type: string;
  created: number;
  account?: string | null;
  livemode: boolean;
  data: { object: Record<string, unknown> };
}

export interface CheckoutRequest {
  mode: "subscription" | "payment";
  /** A metered price (usage billed at period end) has no quantity. */
  lineItems: { price: string; quantity?: number }[];
  successUrl: string;
  cancelUrl: string;
  customer?: string | undefined;
  customerEmail?: string | undefined;
  clientReferenceId?: string | undefined;
  metadata: Record<string, string>;
  /** Subscription mode: metadata copied onto the subscription. */
  subscriptionMetadata?: Record<string, string> | undefined;
  /** A promotion code (the provider's id) applied to the checkout. */
  promotionCode?: string | undefined;
  /** Stripe Tax: tax calculated at checkout from the buyer's billing address. */
  automaticTax?: boolean | undefined;
  /** Subscription mode: days of free trial before the first charge (absent or 0: none). */
  trialDays?: number | undefined;
  /** Payment mode: when the session expires (epoch seconds). */
  expiresAt?: number | undefined;
  idempotencyKey: string;
  /** This server's public origin, for providers whose pages it serves (the sandbox). */
  origin: string;
}

/** A coupon and the customer-facing promotion code for it (Stripe's two objects). */
export interface PromotionCodeRequest {
  code: string;
  percentOff: number | null;
  amountOff: number | null;
  currency: string;
  duration: "once" | "forever" | "repeating";
  durationInMonths: number | null;
  maxRedemptions: number | null;
  /** Epoch seconds after which the code is refused. */
  expiresAt: number | null;
  idempotencyKey: string;
}

/** A meter summing the `value` of the events named `eventName`, per provider customer. */
export interface MeterRequest {
  eventName: string;
  displayName: string;
  idempotencyKey: string;
}

/** A metered price on a meter: `per` events make one billed unit (rounded up). */
export interface MeteredPriceRequest {
  product: string;
  meter: string;
  unitAmount: number;
  per: number;
  currency: string;
  interval: "month" | "year";
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** One meter event; `identifier` makes a repeated report count once. */
export interface MeterEventRequest {
  eventName: string;
  customer: string;
  value: number;
  identifier: string;
  /** Epoch seconds: when the usage happened (inside the period it bills). */
  timestamp: number;
}

/** A refund of (part of) a paid one-off checkout's payment. */
export interface RefundRequest {
  sessionId: string;
  amount: number;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** What starting a connection takes: where onboarding returns to, and with which state. */
export interface ConnectStart {
  mode: Mode;
  email: string;
  callbackUrl: string;
  state: string;
  origin: string;
  idempotencyKey: string;
  /** The developer's account of this mode, when there is one: onboarding goes on there. */
  accountId?: string | undefined;
}

/** A product as made at the provider. */
export interface ProductRequest {
  name: string;
  description: string | null;
  images: string[];
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** What a product's edit sends (`active: false` archives it). */
export interface ProductUpdate {
  name: string;
  description: string | null;
  images: string[];
  active?: boolean;
}

/** A price as made at the provider (`interval` null: one-off). */
export interface PriceRequest {
  product: string;
  unitAmount: number;
  currency: string;
  interval: "month" | "year" | null;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

/** Where a provider object stands: sellable, archived, or gone. */
export type ObjectState = "active" | "archived" | "missing";

/** An amount billed once, on an invoice of its own (see `PaymentProvider.invoiceOnce`). */
export interface OneOffInvoiceRequest {
  customer: string;
  /** Minor units. */
  amount: number;
  currency: string;
  /** The invoice line's text. */
  description: string;
  /** The card to charge (a subscription's); null: the customer's default. */
  paymentMethod: string | null;
  metadata: Record<string, string>;
  idempotencyKey: string;
}

export interface PaymentProvider {
  readonly kind: "stripe" | "sandbox";
  /** Origins of the provider's hosted pages that this server's forms may lead to (CSP). */
  readonly formOrigins: string[];
  /** Starts connecting the developer's own account; the browser goes to `url`. */
  startConnect(o: ConnectStart): Promise<{ url: string; accountId: string }>;
  /** Whether a connected account can take payments now. */
  accountReady(acct: AccountRef): Promise<boolean>;
  createProduct(acct: AccountRef, o: ProductRequest): Promise<string>;
  updateProduct(acct: AccountRef, id: string, o: ProductUpdate): Promise<void>;
  createPrice(acct: AccountRef, o: PriceRequest): Promise<string>;
  archivePrice(acct: AccountRef, id: string): Promise<void>;
  /**
   * Whether a price can be sold: it and its product active, archived (in the provider's
   * dashboard, say) or gone.
   */
  priceState(acct: AccountRef, id: string): Promise<{ price: ObjectState; product: ObjectState }>;
  createCheckoutSession(acct: AccountRef, o: CheckoutRequest): Promise<{ id: string; url: string }>;
  expireCheckoutSession(acct: AccountRef, id: string): Promise<void>;
  retrieveCheckoutSession(acct: AccountRef, id: string): Promise<StripeCheckoutSession>;
  retrieveSubscription(acct: AccountRef, id: string): Promise<StripeSubscription>;
  listSubscriptions(
    acct: AccountRef,
    o: { startingAfter?: string },
  ): Promise<{ data: StripeSubscription[]; hasMore: boolean }>;
  updateSubscription(
    acct: AccountRef,
    id: string,
    o: SubscriptionUpdate,
  ): Promise<StripeSubscription>;
  /** Ends a subscription now (no refund, no proration); `customer.subscription.deleted` follows. */
  cancelSubscription(
    acct: AccountRef,
    id: string,
    o: { idempotencyKey: string },
  ): Promise<StripeSubscription>;
  createPortalSession(
    acct: AccountRef,
    o: { customer: string; returnUrl: string; origin: string },
  ): Promise<{ url: string }>;
  /** Creates the customer at the provider (for a portal before any checkout). */
  createCustomer(acct: AccountRef, o: {
    email: string | null;
    name: string | null;
    metadata: Record<string, string>;
    idempotencyKey: string;
  }): Promise<string>;
  /**
   * Refunds `amount` of a paid one-off checkout (its payment), to the buyer's card; the provider
   * refuses more than is left. `charge.refunded` follows.
   */
  refundPayment(acct: AccountRef, o: RefundRequest): Promise<{ id: string; amount: number }>;
  /**
   * Usage-based billing (Stripe Billing Meters): a meter summing the values of the events named
   * `eventName` per customer, a metered price on it (billed per `per` units, rounded up), and
   * the events themselves (`identifier` makes a repeated report count once).
   */
  createMeter(acct: AccountRef, o: MeterRequest): Promise<string>;
  createMeteredPrice(acct: AccountRef, o: MeteredPriceRequest): Promise<string>;
  reportMeterEvent(acct: AccountRef, o: MeterEventRequest): Promise<void>;
  /**
   * Bills an amount once on an invoice of its own (no other pending item joins it), finalized
   * at once and collected automatically from the card given: the last period's overage of a
   * subscription that ended, which no renewal invoice will bill. `invoice.paid` (or
   * `invoice.payment_failed`) follows.
   */
  invoiceOnce(acct: AccountRef, o: OneOffInvoiceRequest): Promise<{ id: string }>;
  /** Creates a coupon and its promotion code on the account; answers both ids. */
  createPromotionCode(
    acct: AccountRef,
    o: PromotionCodeRequest,
  ): Promise<{ couponId: string; promotionCodeId: string }>;
  /** Stops a promotion code from being redeemed (a deleted code). */
  deactivatePromotionCode(acct: AccountRef, id: string): Promise<void>;
  /** Verifies a webhook body and signature header; throws on any mismatch. */
  verifyEvent(rawBody: string, signature: string, nowSeconds: number): Promise<StripeEvent>;
}

/** Stripe puts the period on the item since API 2025-03-31; older versions on the subscription. */
export function subscriptionPeriod(sub: StripeSubscription): { start: number; end: number } {
  const item = sub.items.data[0];
  const start = item?.current_period_start ?? sub.current_period_start ?? sub.created;
  const end = item?.current_period_end ?? sub.current_period_end ?? sub.created;
  return { start, end };
}

/** A change of a subscription: its end, or its tier's prices. */
export interface SubscriptionUpdate {
  cancelAtPeriodEnd?: boolean;
  price?: string;
  /**
   * With `price`: the new tier's metered overage price, or null when it has none; the metered
   * item of the tier left is replaced or removed with it (a switch kept the old tier's overage
   * rate, or billed none where the new tier had one).
   */
  overagePrice?: string | null;
  /** With `price`: false moves it without proration, so the new price starts at renewal. */
  prorate?: boolean;
  idempotencyKey: string;
}

const isMetered = (i: StripeSubscription["items"]["data"][number]) =>
  i.price.recurring?.usage_type === "metered";

/** A subscription's item for its tier's own price (not the metered overage item beside it). */
export function baseItem(
  items: StripeSubscription["items"]["data"],
): StripeSubscription["items"]["data"][number] | undefined {
  return items.find((i) => !isMetered(i)) ?? items[0];
}

/**
 * The item changes (Stripe's `items` of a subscription update) that move a subscription onto
 * `price` and, when `overagePrice` is given, its metered item onto that price (null: removed).
 */
export function switchItems(
  items: StripeSubscription["items"]["data"],
  o: { price: string; overagePrice?: string | null | undefined },
): { id?: string; price?: string; deleted?: true }[] {
  const base = baseItem(items)!;
  const meter = items.find(isMetered);
  const out: { id?: string; price?: string; deleted?: true }[] = [{ id: base.id, price: o.price }];
  if (o.overagePrice === undefined || meter?.price.id === (o.overagePrice ?? undefined)) return out;
  if (meter) {
    out.push(
      o.overagePrice ? { id: meter.id, price: o.overagePrice } : { id: meter.id, deleted: true },
    );
  } else if (o.overagePrice) out.push({ price: o.overagePrice });
  return out;
}
