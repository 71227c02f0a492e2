/** Connecting a developer's payment account (Stripe Connect Account Links, or the sandbox). */
import type { Services } from "@/lib/services.ts";
import { type Developer, updateDeveloper } from "@/lib/kv/developers.ts";
import type { Mode } from "@/lib/ids.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { connectSandbox } from "@/lib/payments/connected_account.ts";
import { ForbiddenError, ValidationError } from "@/lib/errors.ts";
import { listProjects } from "@/lib/kv/projects.ts";
import {
  type ConnectState,
  deleteConnectState,
  getConnectState,
  saveConnectState,
} from "@/lib/kv/connect_states.ts";
import { syncCatalog } from "@/lib/catalog/sync.ts";

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
  const { url, accountId } = await s.payments.startConnect({
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
  await updateDeveloper(s.kv, dev.id, (d) => ({
    ...d,
    connection: {
      provider: "stripe",
      test: d.connection?.provider === "stripe" ? d.connection.test : null,
      live: d.connection?.provider === "stripe" ? d.connection.live : null,
      [rec.mode]: { accountId: rec.accountId, connectedAt: new Date(s.clock.now()).toISOString() },
    },
  }));
  await deleteConnectState(s.kv, state);
  for (const p of await listProjects(s.kv, dev.id)) {
    if (p.mode !== rec.mode) continue;
    try {
      await syncCatalog(s, p);
    } catch (err) {
      s.logger.warn("catalog sync after connect failed", { pk: p.pk, error: String(err) });
    }
  }
  return rec.returnTo;
}
