/**
 * Grandfathered prices: a tier's price change keeps its subscribers on what they pay. This shows
 * how many pay each price, and moves those on older prices to the current one at their next
 * renewal (the subscription's price changes without proration: this period stays paid as it was).
 */
import type { Services } from "@/lib/services.ts";
import type { Project, Tier } from "@/lib/kv/projects.ts";
import { priceSubscribers } from "@/lib/kv/project_stats.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { applySubscription, snapshot } from "@/lib/billing/subscriptions.ts";
import { ensureTierPrice } from "@/lib/catalog/sync.ts";
import { getProject } from "@/lib/kv/projects.ts";
import { PAID_STATUSES } from "@/lib/usage/plan.ts";
import { onceWithResult } from "@/lib/kv/provider_calls.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { baseItem } from "@/lib/payments/provider.ts";

/** The tier's current price and its older ones, each with its paying subscribers. */
export async function tierPrices(s: Services, p: Project, tier: Tier) {
  const counts = await priceSubscribers(s.kv, p.pk, tier.id);
  return {
    current: {
      priceId: tier.priceId,
      amount: tier.price,
      currency: tier.currency,
      subscribers: tier.priceId ? counts.get(tier.priceId) ?? 0 : 0,
    },
    older: (tier.priceHistory ?? []).map((h) => ({
      priceId: h.priceId,
      amount: h.amount,
      currency: h.currency,
      subscribers: counts.get(h.priceId) ?? 0,
    })).filter((h) => h.subscribers > 0),
  };
}

/**
 * Moves every paying subscription of the tier that is on an older price to the current price,
 * effective at its next renewal. Answers how many moved. Walks the account's subscriptions
 * (an admin action, not a hot path); each move is idempotent per subscription and price.
 */
export async function moveToCurrentPrice(s: Services, p: Project, tierName: string) {
  const found = p.tiers.find((t) => t.name === tierName);
  if (!found) throw new NotFoundError(`No tier "${tierName}" in this project`);
  const tier = await ensureTierPrice(s, p, found);
  const older = new Set((tier.priceHistory ?? []).map((h) => h.priceId));
  const acct = await accountFor(s, p);
  let moved = 0;
  let after: string | undefined;
  for (let pages = 0; pages < 1000; pages++) {
    const page = await s.payments.listSubscriptions(acct, after ? { startingAfter: after } : {});
    for (const sub of page.data) {
      const price = baseItem(sub.items.data)?.price.id;
      if (
        sub.metadata?.dream_pk !== p.pk || !sub.metadata.dream_customer || !price ||
        !older.has(price) || !PAID_STATUSES.has(sub.status)
      ) continue;
      const sentAt = s.clock.now();
      const { fresh } = await onceWithResult(s.kv, {
        scope: `grandfather:${p.pk}:${sub.id}:${tier.priceId}`,
        now: s.clock.now(),
        call: (idempotencyKey) =>
          s.payments.updateSubscription(acct, sub.id, {
            price: tier.priceId!,
            overagePrice: tier.overagePriceId ?? null,
            prorate: false,
            idempotencyKey,
          }),
        idOf: (x) => x.id,
      });
      if (fresh) {
        const project = (await getProject(s.kv, p.pk))!;
        const snap = snapshot(project, fresh, sentAt);
        if (snap) {
          await applySubscription(s, { project, customerId: sub.metadata.dream_customer }, {
            sub: snap,
          });
        }
      }
      moved++;
    }
    if (!page.hasMore || page.data.length === 0) break;
    after = page.data.at(-1)!.id;
  }
  return { moved };
}
