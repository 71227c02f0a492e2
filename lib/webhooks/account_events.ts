/** Events about a developer's connected account itself (not its objects). */
import { disconnectAccount } from "@/lib/billing/connect.ts";
import { type Handler, log, settle } from "@/lib/webhooks/outcomes.ts";
import { subscriptionStats } from "@/lib/kv/project_stats.ts";

/** The developer removed this platform from their Stripe account: it is disconnected. */
export const onDeauthorized: Handler = async (s, ev) => {
  const touched = ev.account
    ? await disconnectAccount(s, {
      mode: ev.livemode ? "live" : "test",
      accountId: ev.account,
      at: ev.created * 1000,
    })
    : null;
  for (const p of touched ?? []) {
    // what the account still bills: Stripe sends no more about it, so it stays as it is here
    const { active, trialing } = await subscriptionStats(s.kv, p.pk);
    const left = active + trialing;
    await log(s, ev, {
      pk: p.pk,
      outcome: "applied",
      summary: `the Stripe account ${ev.account} was disconnected: connect one again to sell` +
        (left > 0
          ? `; ${left} paid subscription(s) remain on that account, billed there, and their ` +
            "customers keep their tiers here"
          : ""),
    });
  }
  return await settle(s, ev, touched ? "applied" : "ignored");
};
