/** Connecting a developer's payment account (Stripe Connect Account Links, or the sandbox). */
import type { Services } from "@/lib/services.ts";
import {
  type Developer,
  developerIdByAccount,
  setStripeAccount,
  stripeAccount,
} from "@/lib/kv/developers.ts";
import type { Mode } from "@/lib/ids.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { connectSandbox } from "@/lib/payments/connected_account.ts";
import { ForbiddenError, ValidationError } from "@/lib/errors.ts";
import { listProjects, type Project, updateProject } from "@/lib/kv/projects.ts";
import {
  type ConnectState,
  deleteConnectState,
  getConnectState,
  saveConnectState,
} from "@/lib/kv/connect_states.ts";
import { forgetProviderIds, syncCatalog } from "@/lib/catalog/sync.ts";
import { syncCoupons } from "@/lib/billing/coupons.ts";

/** Where to send the developer's browser to connect; the sandbox connects at once. */
export async function startConnect(
  s: Services,
  dev: Developer,
  o: { mode: Mode; origin: string; returnTo: string },
): Promise<string> {
  if (s.payments.kind === "sandbox") {
    await connectSandbox(s, dev);
    return o.returnTo;
  }
  const state = randomBase62(32);
  // connecting again continues on the account the developer has (its catalog, its customers):
  // a new, empty account only when there is none for this mode
  const { url, accountId } = await s.payments.startConnect({
    accountId: stripeAccount(dev, o.mode)?.accountId,
    mode: o.mode,
    email: dev.email,
    callbackUrl: `${o.origin}/v1/connect/callback`,
    state,
    origin: o.origin,
    idempotencyKey: `connect_${dev.id}_${o.mode}`,
  });
  const rec: ConnectState = { developerId: dev.id, mode: o.mode, accountId, returnTo: o.returnTo };
  await saveConnectState(s.kv, state, rec);
  return url;
}

/**
 * Finishes onboarding: the state must be this developer's; the account id is stored for the
 * mode (it is not a secret) and the developer's projects of that mode get their catalog synced.
 */
export async function finishConnect(s: Services, dev: Developer, state: string): Promise<string> {
  const rec = await getConnectState(s.kv, state);
  if (!rec) {
    throw new ValidationError("Unknown or expired connect state", [{
      field: "state",
      message: "unknown",
    }]);
  }
  if (rec.developerId !== dev.id) {
    throw new ForbiddenError("This connect link belongs to another account");
  }
  const ready = await s.payments.accountReady({ accountId: rec.accountId, mode: rec.mode });
  if (!ready) return rec.returnTo; // onboarding not finished: connect again later
  await setStripeAccount(s.kv, dev.id, {
    mode: rec.mode,
    account: { accountId: rec.accountId, connectedAt: new Date(s.clock.now()).toISOString() },
  });
  await deleteConnectState(s.kv, state);
  for (const p of await listProjects(s.kv, dev.id)) {
    if (p.mode !== rec.mode) continue;
    try {
      await syncCoupons(s, await syncCatalog(s, p));
    } catch (err) {
      s.logger.warn("catalog sync after connect failed", { pk: p.pk, error: String(err) });
    }
  }
  return rec.returnTo;
}

/**
 * The developer removed this platform from their Stripe account (`account.application.
 * deauthorized`, sent when the notice was `at`): the mode's connection is cleared, so checkouts
 * ask to connect again, and the mode's projects forget the ids of what was made on that account
 * (products, prices, meter, promotion codes), made again on the account connected next. Their
 * customers, usage and records stay. An unknown account, or one connected again since, changes
 * nothing (null). Answers the projects it touched.
 */
export async function disconnectAccount(
  s: Services,
  o: { mode: Mode; accountId: string; at: number },
): Promise<Project[] | null> {
  const devId = await developerIdByAccount(s.kv, o.mode, o.accountId);
  if (!devId) return null;
  const dev = await setStripeAccount(s.kv, devId, {
    mode: o.mode,
    account: null,
    only: { accountId: o.accountId, connectedBy: o.at },
  });
  if (!dev) return null;
  const touched: Project[] = [];
  for (const p of await listProjects(s.kv, devId)) {
    if (p.mode !== o.mode) continue;
    const next = await updateProject(s.kv, p.pk, forgetProviderIds);
    s.caches.projects.set(next.pk, next);
    touched.push(next);
  }
  s.logger.info("payment account disconnected", {
    developer: devId,
    mode: o.mode,
    account: o.accountId,
  });
  return touched;
}
