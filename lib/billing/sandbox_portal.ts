/**
 * What the sandbox's hosted billing portal does for a customer: show the subscription with the
 * project's paid tiers, cancel at period end, resume, or switch to another paid tier (synced to
 * a provider price first). The events it causes are applied through the webhook code.
 */
import type { Services } from "@/lib/services.ts";
import type { SandboxProvider } from "@/lib/payments/sandbox/provider.ts";
import type { StripeSubscription } from "@/lib/payments/provider.ts";
import { getProject } from "@/lib/kv/projects.ts";
import { ensureTierPrice } from "@/lib/catalog/sync.ts";
import { NotFoundError, ValidationError } from "@/lib/errors.ts";

/** The portal session, its customer's live subscription and the project it belongs to. */
export async function sandboxPortal(s: Pick<Services, "kv">, sb: SandboxProvider, id: string) {
  const { portal, subscription } = await sb.portal(id);
  const pk = subscription?.metadata?.dream_pk;
  const project = pk ? await getProject(s.kv, pk) : null;
  return { portal, subscription, project };
}

/** Cancels at period end, resumes, or switches to the paid tier named `tier`. */
export async function sandboxPortalAction(
  s: Services,
  sb: SandboxProvider,
  o: { portalId: string; action: "cancel" | "resume" | "switch"; tier?: string | undefined },
): Promise<StripeSubscription> {
  const { portal, subscription, project } = await sandboxPortal(s, sb, o.portalId);
  if (!subscription || !project) {
    throw new NotFoundError("No active subscription in this portal session");
  }
  const acct = { accountId: portal.account, mode: project.mode };
  if (o.action !== "switch") {
    return await sb.updateSubscription(acct, subscription.id, {
      cancelAtPeriodEnd: o.action === "cancel",
    });
  }
  const tier = project.tiers.find((t) => t.name === o.tier);
  if (!tier || tier.price === 0 || tier.archived) {
    throw new ValidationError(`Unknown paid tier "${o.tier ?? ""}"`, [{
      field: "tier",
      message: "unknown paid tier",
    }]);
  }
  const priced = await ensureTierPrice(s, project, tier);
  // choosing a tier keeps it: a subscription set to end at period end goes on (as at checkout)
  return await sb.updateSubscription(acct, subscription.id, {
    price: priced.priceId!,
    overagePrice: priced.overagePriceId ?? null,
    ...(subscription.cancel_at_period_end ? { cancelAtPeriodEnd: false } : {}),
  });
}
