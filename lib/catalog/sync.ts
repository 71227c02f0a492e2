/** Keeps a project's tiers/products in step with Products and Prices on the connected account. */
import { ConflictError } from "@/lib/errors.ts";
import type { Services } from "@/lib/services.ts";
import { getProject, type Project, type Tier, updateProject } from "@/lib/kv/projects.ts";
import { onceWithKey } from "@/lib/kv/provider_calls.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { isHttpUrl } from "@/lib/schemas.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import { foundAt, providerFailure } from "@/lib/payments/failures.ts";

/** "amount:currency:interval": what makes a price; Stripe prices are immutable. */
export function priceSpecOf(t: Tier): string {
  return `${t.price}:${t.currency}:${t.interval ?? "once"}`;
}

/** What makes the overage's metered price, or null without overage. */
export function overageSpecOf(t: Tier): string | null {
  return t.overage && t.interval
    ? `${t.overage.unitAmount}:${t.overage.per}:${t.currency}:${t.interval}`
    : null;
}

const NONE: ReadonlySet<string> = new Set();

/** Which account a creation's idempotency record is for: an account connected later makes anew. */
const on = (acct: AccountRef) => acct.accountId ?? "platform";

/**
 * A tier's image as the provider takes it: an absolute URL. An `/api/assets/…` path is made one
 * on BASE_URL; without BASE_URL there is no address to give, and the product goes without it.
 */
function providerImages(s: Services, t: Tier): string[] {
  if (!t.imageUrl) return [];
  if (isHttpUrl(t.imageUrl)) return [t.imageUrl];
  return s.config.baseUrl ? [s.config.baseUrl + t.imageUrl] : [];
}

/** What the provider's Product of a tier shows: its name, description and image. */
function productFields(s: Services, t: Tier) {
  return { name: t.displayName, description: t.description, images: providerImages(s, t) };
}

/** The meter event name of a project's overage (one meter per project and mode). */
export const overageEventName = (pk: string) => `dream_overage_${pk}`;

/**
 * The tier's overage as a metered price on the project's meter (made once, its id then kept on
 * the project: `meter`), or none: a changed overage makes a new price (the old one is archived),
 * like the tier's own price.
 */
async function syncOverage(
  s: Services,
  o: {
    acct: AccountRef;
    project: Project;
    tier: Tier;
    productId: string;
    meter: { id: string | null };
  },
): Promise<Pick<Tier, "overagePriceId" | "overageSpec">> {
  const { acct, project: p, tier: t } = o;
  const spec = overageSpecOf(t);
  if ((t.overageSpec ?? null) === spec && (spec === null || t.overagePriceId)) {
    return { overagePriceId: t.overagePriceId ?? null, overageSpec: spec };
  }
  // a price already gone at the provider (its product deleted there) is as good as archived
  if (t.overagePriceId) await foundAt(s.payments.archivePrice(acct, t.overagePriceId));
  if (spec === null) return { overagePriceId: null, overageSpec: null };
  // the call's record lasts a day: after it, the id kept on the project (a second meter of the
  // same event name is refused by Stripe, or would leave two meters on one event name)
  const meter = o.meter.id ??= await onceWithKey(s.kv, {
    scope: `meter:${on(acct)}:${p.pk}`,
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createMeter(acct, {
        eventName: overageEventName(p.pk),
        displayName: `${p.name}: calls past the limit`,
        idempotencyKey,
      }),
  });
  const overagePriceId = await onceWithKey(s.kv, {
    scope: `overage_price:${on(acct)}:${p.pk}:${t.id}:${spec}:from:${t.overagePriceId ?? "none"}`,
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createMeteredPrice(acct, {
        product: o.productId,
        meter,
        unitAmount: t.overage!.unitAmount,
        per: t.overage!.per,
        currency: t.currency,
        interval: t.interval!,
        metadata: { dream_pk: p.pk, dream_tier_id: t.id, dream_overage: "true" },
        idempotencyKey,
      }),
  });
  return { overagePriceId, overageSpec: spec };
}

async function syncOne(
  s: Services,
  o: {
    acct: AccountRef;
    project: Project;
    tier: Tier;
    meter: { id: string | null };
    /** price ids the provider won't sell (archived or gone there): made again */
    stale: ReadonlySet<string>;
  },
): Promise<Tier> {
  const { acct, project: p, tier: t } = o;
  const meta = { dream_pk: p.pk, dream_tier: t.name, dream_tier_id: t.id };
  // deleted in the provider's dashboard (allowed while none of its prices was paid), its prices
  // with it: the tier gets a new product, and new prices on it
  const gone = !!t.productId &&
    !(await foundAt(s.payments.updateProduct(acct, t.productId, productFields(s, t))));
  const productId = t.productId && !gone ? t.productId : await onceWithKey(s.kv, {
    scope: `product:${on(acct)}:${p.pk}:${t.id}${gone ? `:after:${t.productId}` : ""}`,
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createProduct(acct, {
        ...productFields(s, t),
        metadata: meta,
        idempotencyKey,
      }),
  });
  const stale = (id: string | null | undefined) => gone || (!!id && o.stale.has(id));
  const overage = await syncOverage(s, {
    acct,
    project: p,
    tier: stale(t.overagePriceId) ? { ...t, overageSpec: null } : t,
    productId,
    meter: o.meter,
  });
  const spec = priceSpecOf(t);
  if (t.priceId && t.priceSpec === spec && !stale(t.priceId)) {
    return { ...t, productId, ...overage };
  }
  // one scope per change from a given price: going back to an earlier amount makes a new
  // price (the earlier one is archived), never reuses the archived one
  const priceId = await onceWithKey(s.kv, {
    scope: `price:${on(acct)}:${p.pk}:${t.id}:${spec}:from:${t.priceId ?? "none"}`,
    now: s.clock.now(),
    call: (idempotencyKey) =>
      s.payments.createPrice(acct, {
        product: productId,
        unitAmount: t.price,
        currency: t.currency,
        interval: t.interval,
        metadata: meta,
        idempotencyKey,
      }),
  });
  let priceHistory = t.priceHistory ?? [];
  // a price gone with its product was never paid (else the provider keeps it): no record
  if (t.priceId && t.priceId !== priceId && !gone) {
    await foundAt(s.payments.archivePrice(acct, t.priceId));
    // subscribers stay on the price they pay: remember what it was
    const [amount, currency, interval] = (t.priceSpec ?? "").split(":");
    priceHistory = [
      ...priceHistory.filter((h) => h.priceId !== t.priceId),
      {
        priceId: t.priceId,
        amount: Number(amount),
        currency: currency ?? t.currency,
        interval: interval && interval !== "once" ? interval : null,
      },
    ].slice(-20);
  }
  return { ...t, productId, priceId, priceSpec: spec, priceHistory, ...overage };
}

/**
 * Creates or updates the Product and Price of each tier that differs from the provider, then
 * records the ids on the project (versionstamp-checked). A price change makes a new Price and
 * archives the old one; keys never change. Returns the updated project.
 */
export async function syncCatalog(
  s: Services,
  project: Project,
  only?: string[],
  o: { stale?: ReadonlySet<string> } = {},
): Promise<Project> {
  const acct = await accountFor(s, project);
  const synced = new Map<string, Tier>();
  const meter = { id: project.overageMeterId ?? null };
  for (const t of project.tiers) {
    if (only && !only.includes(t.id)) continue;
    synced.set(t.id, await syncOne(s, { acct, project, tier: t, meter, stale: o.stale ?? NONE }));
  }
  const next = await updateProject(s.kv, project.pk, (p) => ({
    ...p,
    ...(meter.id ? { overageMeterId: p.overageMeterId ?? meter.id } : {}),
    tiers: p.tiers.map((t) => {
      const got = synced.get(t.id);
      // keep a concurrent edit: only take ids for the spec we synced
      const overage = got && overageSpecOf(t) === got.overageSpec
        ? { overagePriceId: got.overagePriceId ?? null, overageSpec: got.overageSpec ?? null }
        : {};
      return got && priceSpecOf(t) === got.priceSpec
        ? {
          ...t,
          productId: got.productId,
          priceId: got.priceId,
          priceSpec: got.priceSpec,
          priceHistory: got.priceHistory ?? t.priceHistory ?? [],
          ...overage,
        }
        : got
        ? { ...t, productId: got.productId, ...overage }
        : t;
    }),
  }));
  s.caches.projects.set(next.pk, next);
  return next;
}

/**
 * The project without the ids of what was made on its payment account (tiers' products and
 * prices, the overage meter, promotion codes): its account left, and they are made again on
 * the next. Prices paid before (`priceHistory`) are kept as records.
 */
export function forgetProviderIds(p: Project): Project {
  return {
    ...p,
    overageMeterId: null,
    tiers: p.tiers.map((t) => ({
      ...t,
      productId: null,
      priceId: null,
      priceSpec: null,
      overagePriceId: null,
      overageSpec: null,
    })),
    ...(p.coupons
      ? {
        coupons: p.coupons.map((c) => ({
          ...c,
          providerCouponId: null,
          providerPromotionCodeId: null,
        })),
      }
      : {}),
  };
}

/** Archives a deleted tier's Product at the provider (its prices stop being sold). */
export async function archiveTierProduct(s: Services, project: Project, tier: Tier): Promise<void> {
  if (!tier.productId) return;
  const acct = await accountFor(s, project);
  // deleted at the provider already: nothing left to archive
  if (tier.priceId) await foundAt(s.payments.archivePrice(acct, tier.priceId));
  await foundAt(s.payments.updateProduct(acct, tier.productId, {
    ...productFields(s, tier),
    active: false,
  }));
}

/**
 * Runs `sell` with the tiers' current price ids; when the provider refuses it and a tier's price
 * or product turns out archived or deleted there (in its dashboard, say), those tiers are made
 * sellable again and `sell` runs once more (`healed`: a new request). An archived product is made
 * active again and a price that can't be sold is replaced by a new one (the old one kept in the
 * tier's price history), as a price change would: the tiers here are what is on sale.
 */
export async function sellingTiers<T>(
  s: Services,
  project: Project,
  tiers: Tier[],
  sell: (priced: Tier[], healed: boolean) => Promise<T>,
): Promise<T> {
  const priced = [];
  for (const t of tiers) priced.push(await ensureTierPrice(s, project, t));
  try {
    return await sell(priced, false);
  } catch (err) {
    if (providerFailure(err)?.code !== "payment_provider_error") throw err;
    const acct = await accountFor(s, project);
    const stale: string[] = [];
    const revived = new Set<string>();
    for (const t of priced) {
      for (const id of [t.priceId, t.overagePriceId]) {
        const state = id ? await s.payments.priceState(acct, id) : null;
        if (state?.product === "archived" && t.productId && !revived.has(t.productId)) {
          revived.add(t.productId);
          await s.payments.updateProduct(acct, t.productId, {
            ...productFields(s, t),
            active: true,
          });
        }
        if (state && state.price !== "active") stale.push(id!);
      }
    }
    if (stale.length === 0 && revived.size === 0) throw err; // the refusal was about something else
    const current = (await getProject(s.kv, project.pk)) ?? project;
    const again = [];
    for (const t of priced) {
      const tier = current.tiers.find((x) => x.id === t.id) ?? t;
      again.push(await ensureTierPrice(s, current, tier, { stale: new Set(stale) }));
    }
    return await sell(again, true);
  }
}

/** The tier with a current price id, syncing it first when needed (e.g. Stripe connected later). */
export async function ensureTierPrice(
  s: Services,
  project: Project,
  tier: Tier,
  o: { stale?: ReadonlySet<string> } = {},
): Promise<Tier> {
  const overageReady = (tier.overageSpec ?? null) === overageSpecOf(tier) &&
    (!tier.overage || !!tier.overagePriceId);
  const isStale = [tier.priceId, tier.overagePriceId].some((id) => id && o.stale?.has(id));
  if (tier.priceId && tier.priceSpec === priceSpecOf(tier) && overageReady && !isStale) {
    return tier;
  }
  const next = await syncCatalog(s, project, [tier.id], o);
  const synced = next.tiers.find((t) => t.id === tier.id);
  // deleted by a concurrent change while this request was under way
  if (!synced) throw new ConflictError(`"${tier.name}" was deleted meanwhile`);
  return synced;
}
