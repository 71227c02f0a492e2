/** Reconciliation: events can be missed, so local subscription state is compared with the provider's. */
import type { Services } from "@/lib/services.ts";
import { everyProject, type Project } from "@/lib/kv/projects.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { applySubscription, snapshot } from "@/lib/billing/subscriptions.ts";
import { getCustomer } from "@/lib/kv/customers.ts";

/**
 * Lists every subscription on the project's connected account and applies those that belong
 * to this project and differ from what we hold, as the newest state. Returns how many changed.
 */
export async function reconcileProject(s: Services, project: Project): Promise<number> {
  if (project.type !== "saas") return 0;
  const acct = await accountFor(s, project);
  let changed = 0;
  let after: string | undefined;
  for (;;) {
    const listedAt = s.clock.now();
    const page = await s.payments.listSubscriptions(acct, after ? { startingAfter: after } : {});
    for (const sub of page.data) {
      if (sub.metadata?.dream_pk !== project.pk || !sub.metadata.dream_customer) continue;
      const cust = await getCustomer(s.kv, project.pk, sub.metadata.dream_customer);
      if (!cust) continue;
      const snap = snapshot(project, sub, listedAt);
      if (!snap) continue;
      const cur = cust.subscription;
      const same = cur && cur.id === snap.id && cur.status === snap.status &&
        cur.tierId === snap.tierId &&
        cur.cancelAtPeriodEnd === snap.cancelAtPeriodEnd &&
        cur.currentPeriodEnd === snap.currentPeriodEnd;
      if (same) continue;
      if (cur && cur.id !== snap.id && snap.status === "canceled") continue;
      if (
        (await applySubscription(s, { project, customerId: cust.id }, {
          sub: snap,
          providerCustomerId: sub.customer,
        })) === "applied"
      ) changed++;
    }
    if (!page.hasMore || page.data.length === 0) break;
    after = page.data[page.data.length - 1]!.id;
  }
  return changed;
}

/** Reconciles every SaaS project on this KV; returns how many subscriptions were repaired. */
export async function reconcileAll(
  s: Services,
): Promise<{ projects: number; repaired: number; failed: string[] }> {
  let projects = 0, repaired = 0;
  const failed: string[] = [];
  for await (const p of everyProject(s.kv)) {
    if (p.type !== "saas") continue;
    projects++;
    try {
      repaired += await reconcileProject(s, p);
    } catch (err) {
      failed.push(`${p.pk}: ${err instanceof Error ? err.message : err}`);
    }
  }
  return { projects, repaired, failed };
}
