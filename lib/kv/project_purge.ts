/**
 * Deleted projects: marking and unmarking a project (with its test/live twin) as deleted, and
 * purging one for good once its undo window has passed. A purge removes every entry keyed by
 * the project (roots below, each `[root, pk, …]`), its listing and key pointers, and the
 * project record last, so a purge cut short is simply run again.
 * `lib/projects/lifecycle_test.ts` checks that nothing naming the project is left.
 */
import { projectKeys } from "@/lib/kv/projects.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { bumpEpoch } from "@/lib/kv/project_epochs.ts";
import { ConflictError } from "@/lib/errors.ts";

/** Every key root whose second part is a project's publishable key. */
export const PROJECT_ROOTS = [
  "project_epochs",
  "project_stats",
  "project_stats_day",
  "project_events",
  "project_events_by_type",
  "customers",
  "customers_by_created",
  "customers_by_email",
  "customers_by_email_built",
  "ended_subscriptions",
  "usage",
  "usage_tally",
  "usage_log",
  "usage_head",
  "usage_folded",
  "usage_bucket",
  "usage_monthly",
  "usage_daily",
  "orders",
  "orders_by_email",
  "buyers",
  "buyer_stats",
  "reservations",
  "holds_by_client",
  "idempotency",
  "coupon_redeemed",
  "overage_closed",
  "webhook_events",
  "webhook_deliveries",
  "webhook_queue",
  "webhook_sched",
  "webhook_lease",
  "webhook_limit_reached",
  "open_subscription_checkout",
] as const;

/**
 * Sets (`deletedAt` an ISO time) or clears (null) the deletion mark of projects in one checked
 * commit, each project's epoch moved so every instance stops (or resumes) serving its keys.
 */
export async function markDeleted(
  kv: Deno.Kv,
  pks: string[],
  o: { deletedAt: string | null; updatedAt: string },
): Promise<Project[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const got = await kv.getMany<Project[]>(pks.map(projectKeys.byPk));
    let op = kv.atomic();
    const next: Project[] = [];
    for (const e of got) {
      if (!e.value) continue;
      const p: Project = { ...e.value, updatedAt: o.updatedAt };
      if (o.deletedAt) p.deletedAt = o.deletedAt;
      else delete p.deletedAt;
      next.push(p);
      op = bumpEpoch(op.check(e).set(e.key, p), p.pk);
    }
    if ((await op.commit()).ok) return next;
  }
  throw new ConflictError("Cannot change the project: too many concurrent changes, try again");
}

/** Removes everything stored for a deleted project (it must be marked deleted). */
export async function purgeProject(kv: Deno.Kv, p: Project): Promise<number> {
  let removed = 0;
  const flush = async (keys: Deno.KvKey[]) => {
    let op = kv.atomic();
    for (const k of keys) op = op.delete(k);
    await op.commit();
    removed += keys.length;
  };
  for (const root of PROJECT_ROOTS) {
    let keys: Deno.KvKey[] = [[root, p.pk]]; // the entry named by the prefix itself, if any
    for await (const e of kv.list({ prefix: [root, p.pk] })) {
      keys.push(e.key);
      if (keys.length === 500) {
        await flush(keys);
        keys = [];
      }
    }
    if (keys.length) await flush(keys);
  }
  const hashes = [p.secretHash, ...(p.graceKeys ?? []).map((g) => g.hash)];
  await flush([
    projectKeys.byPlatform(p.platformId, p.listId),
    ...hashes.map(projectKeys.bySecret),
  ]);
  // last: the record that makes the purge job come back if it was cut short
  await flush([projectKeys.byPk(p.pk)]);
  return removed;
}
