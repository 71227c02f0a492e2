/** SaaS billing for one customer: checkout (or a prorated switch), portal, cancel and resume. */
import { promotionFor } from "@/lib/billing/coupons.ts";
import { z } from "zod";
import { checkoutReturnUrls, optionalReturnUrl, RETURN_PATHS } from "@/lib/billing/return_urls.ts";
import type { Services } from "@/lib/services.ts";
import { getProject, type Project } from "@/lib/kv/projects.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { sellingTiers } from "@/lib/catalog/sync.ts";
import {
  applySubscription,
  linkProviderCustomer,
  snapshot,
  unlinkProviderCustomer,
} from "@/lib/billing/subscriptions.ts";
import { paidSubscription } from "@/lib/usage/plan.ts";
import { onceWithKey, onceWithResult } from "@/lib/kv/provider_calls.ts";
import { replaceOpenCheckout } from "@/lib/kv/open_checkouts.ts";
import { expireIfOpen } from "@/lib/payments/expire_checkout.ts";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import { ulid } from "@/lib/ids.ts";
import { ensureCustomer, findCustomer, requireCustomer } from "@/lib/customers/customers.ts";
import type { AccountRef, CheckoutRequest } from "@/lib/payments/provider.ts";
import { isMissingCustomer } from "@/lib/payments/failures.ts";

export const CheckoutInputSchema = z.object({
  tier: z.string().min(1).max(63),
  ...checkoutReturnUrls("subscription"),
  /** A promotion code of the project (422 when unknown, expired or used up). */
  promotionCode: z.string().trim().min(1).max(40).optional(),
});

/** `returnUrl` optional from a browser: defaults to /dashboard on its origin (return_urls.ts). */
export const PortalInputSchema = z.object({
  returnUrl: optionalReturnUrl(RETURN_PATHS.portal.returnUrl),
});

/** Who a billing call acts for; `mayCreate`: a secret-key caller may name a new customer. */
export interface CustomerRef {
  id: string;
  mayCreate: boolean;
}

function customerFor(s: Services, project: Project, who: CustomerRef): Promise<Customer> {
  return who.mayCreate
    ? ensureCustomer(s, project, who.id)
    : requireCustomer(s, project.pk, who.id);
}

/**
 * Sends a customer to a subscription checkout for `tier` on the developer's account, tied to
 * our customer by metadata. A customer who already pays is switched to the new tier's price
 * with proration instead (no second subscription; one set to end at period end goes on); the
 * answer then says `switched`. Buying the tier of a subscription set to end resumes it
 * (`resumed`).
 */
export async function startSubscriptionCheckout(
  s: Services,
  project: Project,
  input: z.infer<typeof CheckoutInputSchema> & {
    /** Resolved (returnUrls): given, or the calling page's default. */
    successUrl: string;
    cancelUrl: string;
    who: CustomerRef;
    origin: string;
    idempotencyKey?: string | undefined;
  },
) {
  const who = input.who;
  const tier = project.tiers.find((t) => t.name === input.tier);
  if (!tier) {
    throw new ValidationError(`Unknown tier "${input.tier}"`, [{
      field: "tier",
      message: "unknown tier",
    }]);
  }
  if (tier.price === 0) {
    throw new ValidationError(`Tier "${tier.name}" is free: it needs no checkout`, [{
      field: "tier",
      message: "free tier",
    }]);
  }
  if (tier.archived) {
    throw new ValidationError(`Tier "${tier.name}" is archived: it takes no new subscribers`, [{
      field: "tier",
      message: "archived tier",
    }]);
  }
  const promo = input.promotionCode ? await promotionFor(s, project, input.promotionCode) : null;
  // only a checkout that can go ahead creates the customer
  const customer = await customerFor(s, project, who);
  const acct = await accountFor(s, project);
  const current = paidSubscription(customer);
  const metadata = {
    dream_pk: project.pk,
    dream_customer: customer.id,
    dream_tier: tier.name,
    dream_tier_id: tier.id,
    ...promo?.metadata,
  };
  // a caller's Idempotency-Key names this request: the same key with another one is 409
  const fingerprint = input.idempotencyKey
    ? {
      fingerprint: JSON.stringify([
        tier.id,
        input.successUrl,
        input.cancelUrl,
        input.promotionCode ?? null,
      ]),
    }
    : {};
  if (current) {
    if (current.tierId === tier.id) {
      if (!current.cancelAtPeriodEnd) {
        throw new ConflictError(`Customer "${customer.id}" is already on tier "${tier.name}"`);
      }
      // buying the tier they are leaving: the subscription goes on, nothing more is charged
      await setCancelAtPeriodEnd(s, project, { who, cancel: false });
      return { url: input.successUrl, switched: true, resumed: true };
    }
    const key = input.idempotencyKey ?? ulid(s.clock.now());
    const sentAt = s.clock.now();
    const { fresh: updated } = await sellingTiers(
      s,
      project,
      [tier],
      ([sold], healed) =>
        onceWithResult(s.kv, {
          scope: `switch:${project.pk}:${customer.id}:${key}${
            healed ? `:price:${sold!.priceId}` : ""
          }`,
          ...fingerprint,
          now: s.clock.now(),
          call: (idempotencyKey) =>
            s.payments.updateSubscription(acct, current.id, {
              price: sold!.priceId!,
              overagePrice: sold!.overagePriceId ?? null,
              // buying a tier means keeping it: one set to end at period end goes on
              ...(current.cancelAtPeriodEnd ? { cancelAtPeriodEnd: false } : {}),
              idempotencyKey,
            }),
          idOf: (sub) => sub.id,
        }),
    );
    if (updated) {
      const fresh = (await getProject(s.kv, project.pk))!; // with the price ids just synced
      const snap = snapshot(fresh, updated, sentAt);
      if (snap) {
        await applySubscription(s, { project: fresh, customerId: customer.id }, { sub: snap });
      }
    }
    return { url: input.successUrl, switched: true };
  }
  const key = input.idempotencyKey ?? ulid(s.clock.now());
  const session = await sellingTiers(
    s,
    project,
    [tier],
    ([sold], healed) =>
      withProviderCustomer(s, project, customer, (providerCustomer) =>
        openCheckoutOnce(s, {
          acct,
          // another billing account, or a price made anew, is another request
          scope: `checkout:${project.pk}:${customer.id}:${key}${
            providerCustomer === customer.providerCustomerId
              ? ""
              : `:after:${customer.providerCustomerId}`
          }${healed ? `:price:${sold!.priceId}` : ""}`,
          ...fingerprint,
        }, {
          mode: "subscription",
          // overage is a metered item: usage past the limit is billed at each period's end
          lineItems: [
            { price: sold!.priceId!, quantity: 1 },
            ...(sold!.overagePriceId ? [{ price: sold!.overagePriceId }] : []),
          ],
          successUrl: input.successUrl,
          cancelUrl: input.cancelUrl,
          customer: providerCustomer ?? undefined,
          customerEmail: providerCustomer ? undefined : customer.email ?? undefined,
          clientReferenceId: customer.id,
          metadata,
          subscriptionMetadata: metadata,
          ...(project.automaticTax ? { automaticTax: true } : {}),
          ...(promo ? { promotionCode: promo.promotionCode } : {}),
          // a trial for first-time subscribers only (a customer who had one pays at once)
          ...(tier.trialDays && !customer.subscription ? { trialDays: tier.trialDays } : {}),
          origin: input.origin,
        })),
  );
  // the customer's checkout opened before this one can no longer be paid: one subscription each
  const previous = await replaceOpenCheckout(s.kv, {
    pk: project.pk,
    customerId: customer.id,
    sessionId: session.id,
    tierId: tier.id,
    now: s.clock.now(),
  });
  if (previous) await expireIfOpen(s, acct, previous, "a newer checkout was opened");
  return { url: session.url, sessionId: session.id, switched: false };
}

/**
 * Opens a checkout session once per `scope`: the provider idempotency key is saved in KV before
 * the call, and a repeated scope answers the session made the first time.
 */
export async function openCheckoutOnce(
  s: Services,
  at: { acct: AccountRef; scope: string; fingerprint?: string },
  request: Omit<CheckoutRequest, "idempotencyKey">,
): Promise<{ id: string; url: string }> {
  const { id, fresh } = await onceWithResult(s.kv, {
    scope: at.scope,
    ...(at.fingerprint !== undefined ? { fingerprint: at.fingerprint } : {}),
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createCheckoutSession(at.acct, { ...request, idempotencyKey }),
    idOf: (session) => session.id,
  });
  const url = fresh?.url ?? (await s.payments.retrieveCheckoutSession(at.acct, id)).url ?? "";
  return { id, url };
}

/**
 * A billing-portal session. A customer who never checked out gets their billing account at the
 * provider first (once: the id is kept), so the portal works for every customer.
 */
export async function openPortal(
  s: Services,
  project: Project,
  o: { who: CustomerRef; returnUrl: string; origin: string },
) {
  const customer = await customerFor(s, project, o.who);
  const acct = await accountFor(s, project);
  return await withProviderCustomer(s, project, customer, async (known) => {
    const providerCustomerId = known ?? await onceWithKey(s.kv, {
      // a customer made after the one that was gone is another creation
      scope: `customer:${project.pk}:${customer.id}${
        customer.providerCustomerId ? `:after:${customer.providerCustomerId}` : ""
      }`,
      now: s.clock.now(),
      call: (idempotencyKey) =>
        s.payments.createCustomer(acct, {
          email: customer.email,
          name: customer.name,
          metadata: { dream_pk: project.pk, dream_customer: customer.id },
          idempotencyKey,
        }),
    });
    if (!known) {
      await linkProviderCustomer(s, { pk: project.pk, customerId: customer.id }, {
        providerCustomerId,
      });
    }
    return await s.payments.createPortalSession(acct, {
      customer: providerCustomerId,
      returnUrl: o.returnUrl,
      origin: o.origin,
    });
  });
}

/**
 * Runs `call` with the customer's billing account at the provider; when the provider says that
 * account is gone (deleted in its dashboard, or made on an account since replaced), our link
 * goes and `call` runs once more with none, to make a new one.
 */
async function withProviderCustomer<T>(
  s: Services,
  project: Project,
  customer: Customer,
  call: (providerCustomer: string | null) => Promise<T>,
): Promise<T> {
  const known = customer.providerCustomerId ?? null;
  try {
    return await call(known);
  } catch (err) {
    if (!known || !isMissingCustomer(err)) throw err;
    s.logger.info("provider customer gone; a new one is made", { pk: project.pk, known });
    await unlinkProviderCustomer(s, { pk: project.pk, customerId: customer.id }, known);
    return await call(null);
  }
}

/**
 * Cancels at period end (`cancel: true`) or undoes a pending cancel; answers the new state. A
 * customer not seen yet has no subscription: 404, and nothing is created.
 */
export async function setCancelAtPeriodEnd(
  s: Services,
  project: Project,
  o: { who: CustomerRef; cancel: boolean },
) {
  const { who, cancel } = o;
  const customer = await findCustomer(s, project.pk, who.id);
  const current = customer ? paidSubscription(customer) : null;
  if (!customer || !current) {
    throw new NotFoundError(`Customer "${who.id}" has no active subscription`);
  }
  if (current.cancelAtPeriodEnd === cancel) return current;
  const acct = await accountFor(s, project);
  const sentAt = s.clock.now();
  const { fresh: updated } = await onceWithResult(s.kv, {
    scope: `cancel:${current.id}:${cancel}:${ulid(s.clock.now())}`,
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.updateSubscription(acct, current.id, {
        cancelAtPeriodEnd: cancel,
        idempotencyKey,
      }),
    idOf: (sub) => sub.id,
  });
  if (!updated) throw new ConflictError("The subscription changed meanwhile; try again");
  const snap = snapshot(project, updated, sentAt);
  if (!snap) throw new ConflictError("The subscription's price no longer matches a tier");
  await applySubscription(s, { project, customerId: customer.id }, { sub: snap });
  return snap;
}
