/** The developer's own platform plan: a monthly price paid to the operator (0 = off). */
import type { Services } from "@/lib/services.ts";
import type { StripeEvent, StripeSubscription } from "@/lib/payments/provider.ts";
import { type Developer, setPlanStatusOnce } from "@/lib/kv/developers.ts";
import { claimEvent } from "@/lib/kv/events.ts";
import { onceWithKey } from "@/lib/kv/provider_calls.ts";
import { ulid } from "@/lib/ids.ts";
import {
  isPlatformPrice,
  platformPriceFor,
  platformProduct,
  rememberPlatformPrice,
  rememberPlatformProduct,
} from "@/lib/kv/platform_prices.ts";
import { openCheckoutOnce } from "@/lib/billing/checkout.ts";
import { ConflictError, ForbiddenError, NotFoundError } from "@/lib/errors.ts";
import { PAID_STATUSES } from "@/lib/usage/plan.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import { currentSubscription } from "@/lib/payments/failures.ts";

const PLATFORM: AccountRef = { accountId: null, mode: "test" };

/** Where platform plans are sold: the live account when the operator configured a live key. */
function platformAccount(s: Services): AccountRef {
  return s.config.stripe?.secretKeyLive ? { accountId: null, mode: "live" } : PLATFORM;
}

/**
 * The platform plan's Product (made once) and its Price for this amount and currency, at the
 * provider and kept in the store: the calls' own records last a day, after which they would be
 * made again.
 */
async function makePlatformPrice(
  s: Services,
  acct: AccountRef,
  o: { amount: number; currency: string },
): Promise<string> {
  const kept = await platformProduct(s.kv);
  const product = kept ?? await onceWithKey(s.kv, {
    scope: "platform:product",
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createProduct(acct, {
        name: "dream-api platform",
        description: "Monthly platform plan",
        images: [],
        metadata: { dream_platform_product: "1" },
        idempotencyKey,
      }),
  });
  if (!kept) await rememberPlatformProduct(s.kv, product);
  const price = await onceWithKey(s.kv, {
    scope: `platform:price:${o.amount}:${o.currency}`,
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createPrice(acct, {
        product,
        unitAmount: o.amount,
        currency: o.currency,
        interval: "month",
        metadata: { dream_platform_price: "1" },
        idempotencyKey,
      }),
  });
  await rememberPlatformPrice(s.kv, price, { ...o, createdAt: s.clock.now() });
  return price;
}

/** Opens a subscription checkout for the platform plan on the operator's own account. */
export async function startPlatformCheckout(
  s: Services,
  dev: Developer,
  o: { origin: string; successUrl: string; cancelUrl: string },
) {
  const amount = s.config.platformPriceCents;
  if (amount === 0) {
    throw new NotFoundError("The platform plan is off on this server (PLATFORM_PRICE_CENTS=0)");
  }
  if (dev.planStatus === "active") throw new ConflictError("The platform plan is already active");
  const acct = platformAccount(s);
  const currency = s.config.platformCurrency;
  const price = await platformPriceFor(s.kv, amount, currency) ??
    await makePlatformPrice(s, acct, { amount, currency });
  const metadata = { dream_platform: dev.id };
  const session = await openCheckoutOnce(
    s,
    { acct, scope: `platform_checkout:${dev.id}:${ulid(s.clock.now())}` },
    {
      mode: "subscription",
      lineItems: [{ price, quantity: 1 }],
      successUrl: o.successUrl,
      cancelUrl: o.cancelUrl,
      customerEmail: dev.email,
      clientReferenceId: dev.id,
      metadata,
      subscriptionMetadata: metadata,
      origin: o.origin,
    },
  );
  return { url: session.url };
}

/** The platform's own account in the event's mode: where the object it tells of lives. */
export function platformAccountOf(ev: StripeEvent): AccountRef {
  return { accountId: null, mode: ev.livemode ? "live" : "test" };
}

/**
 * Whether an event may change a platform plan: it comes from the platform's own account (no
 * `event.account`: a developer controls their connected account and its metadata, not ours)
 * and the subscription is on one of the operator's platform prices.
 */
export async function isPlatformEvent(
  s: Services,
  ev: StripeEvent,
  sub: StripeSubscription,
): Promise<boolean> {
  if (ev.account || s.config.platformPriceCents === 0) return false;
  const price = sub.items.data[0]?.price;
  if (!price) return false;
  // prices on our own account carry our flag; the ids we made are also kept
  return price.metadata?.dream_platform_price === "1" || await isPlatformPrice(s.kv, price.id);
}

/**
 * Applies a platform subscription event to the developer's plan status, once per event. Events
 * that fail `isPlatformEvent` are claimed and change nothing. The subscription's state is read
 * from the platform's account (unless the caller just read it: `readAt`), and the time of that
 * read orders plan states: a late retry of an older event (Stripe retries for days) does not
 * bring a canceled plan back.
 */
export async function applyPlatformSubscription(
  s: Services,
  ev: StripeEvent,
  told: StripeSubscription,
  readAt?: number,
): Promise<string> {
  const devId = told.metadata.dream_platform!;
  const genuine = await isPlatformEvent(s, ev, told);
  if (!genuine) {
    s.logger.warn("platform plan event refused: not from the platform's account and price", {
      event: ev.id,
      account: ev.account ?? null,
    });
    return (await claimEvent(s.kv, ev.id, s.clock.now()))
      ? "ignored: not a platform event"
      : "duplicate";
  }
  let sub = told;
  if (readAt === undefined) {
    readAt = s.clock.now();
    const current = await currentSubscription(s.payments, platformAccountOf(ev), told.id);
    if (!current || current.metadata?.dream_platform !== devId) {
      return (await claimEvent(s.kv, ev.id, s.clock.now()))
        ? "ignored: no such subscription"
        : "duplicate";
    }
    sub = current;
  }
  const status: Developer["planStatus"] = PAID_STATUSES.has(sub.status)
    ? (sub.status === "past_due" ? "past_due" : "active")
    : "canceled";
  const out = await setPlanStatusOnce(s.kv, {
    developerId: devId,
    status,
    eventId: ev.id,
    now: s.clock.now(),
    version: readAt,
  });
  return out === "applied" ? `platform plan ${status}` : out;
}

/** Live projects need an active platform plan when the operator charges for one. */
export function requirePlatformPlan(s: Services, dev: Developer): void {
  if (s.config.platformPriceCents > 0 && dev.planStatus !== "active") {
    throw new ForbiddenError(
      "Going live needs an active platform plan (POST /v1/billing/checkout)",
    );
  }
}
