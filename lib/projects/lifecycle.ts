/**
 * Deleting a project, its undo, and the purge after the undo window. A project and its
 * test/live twin are one project to the developer: they are deleted and restored together.
 * A deleted project's keys stop at once (this instance) or within `cacheTtlMs` (others); its
 * data is kept `DELETED_RETENTION_DAYS` days, then purged by a background job.
 */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { everyProject, listProjects } from "@/lib/kv/projects.ts";
import { markDeleted, purgeProject } from "@/lib/kv/project_purge.ts";
import { ConflictError } from "@/lib/errors.ts";
import { ownedProject, type ProjectRef } from "@/lib/projects/projects.ts";
import { DAY_MS, DELETED_RETENTION_DAYS } from "@/lib/projects/retention.ts";
import { listCustomers } from "@/lib/kv/customers.ts";
import { tryCancelNowAtProvider } from "@/lib/payments/cancel_now.ts";
import { expireCheckoutsOf } from "@/lib/payments/expire_checkout.ts";

/** How long past its retention a purge may wait for the provider to end its subscriptions. */
const PURGE_GRACE_MS = 7 * DAY_MS;

export { purgeAt } from "@/lib/projects/retention.ts";

/** The project and its twin (the live project of a test one, or the test one of a live one). */
async function withTwin(s: Services, p: Project): Promise<string[]> {
  if (p.livePk) return [p.pk, p.livePk];
  const twin = (await listProjects(s.kv, p.platformId)).find((x) => x.livePk === p.pk);
  return twin ? [twin.pk, p.pk] : [p.pk];
}

function forget(s: Services, projects: Project[]) {
  for (const p of projects) s.caches.projects.set(p.pk, p);
}

/** Deletes a project (and its twin), expiring its open checkouts: 409 when it is deleted already. */
export async function deleteProject(s: Services, ref: ProjectRef): Promise<Project[]> {
  const p = await ownedProject(s, ref.platformId, ref.pk);
  if (p.deletedAt) throw new ConflictError("This project is deleted already");
  const now = new Date(s.clock.now()).toISOString();
  const out = await markDeleted(s.kv, await withTwin(s, p), { deletedAt: now, updatedAt: now });
  forget(s, out);
  // its keys stopped: its checkouts still open can no longer be paid either
  for (const d of out) await expireCheckoutsOf(s, d);
  return out;
}

/** Undoes a deletion within the retention window: the same keys work again at once. */
export async function restoreProject(s: Services, ref: ProjectRef): Promise<Project[]> {
  const p = await ownedProject(s, ref.platformId, ref.pk);
  if (!p.deletedAt) throw new ConflictError("This project is not deleted");
  const now = new Date(s.clock.now()).toISOString();
  const out = await markDeleted(s.kv, await withTwin(s, p), { deletedAt: null, updatedAt: now });
  forget(s, out);
  return out;
}

/**
 * Deletes every project of a developer that is not deleted yet (account deletion); with
 * `endSubscriptions`, every project's running subscriptions are also canceled at the provider
 * (a failure is logged: the account is going, nothing could retry it).
 */
export async function deleteAllProjects(
  s: Services,
  platformId: string,
  o: { endSubscriptions?: boolean } = {},
): Promise<number> {
  const now = new Date(s.clock.now()).toISOString();
  const all = await listProjects(s.kv, platformId);
  const live = all.filter((p) => !p.deletedAt);
  for (let i = 0; i < live.length; i += 20) {
    const part = live.slice(i, i + 20).map((p) => p.pk);
    const deleted = await markDeleted(s.kv, part, { deletedAt: now, updatedAt: now });
    forget(s, deleted);
    for (const d of deleted) await expireCheckoutsOf(s, d);
  }
  if (o.endSubscriptions) { for (const p of all) await endSubscriptions(s, p); }
  return live.length;
}

/**
 * The background job: purges projects deleted longer ago than the retention window, ending their
 * subscriptions at the provider first (their keys stopped a month ago: nothing they sold can be
 * had any more, so nothing may go on billing for it). A subscription the provider could not end
 * holds its project's purge back to the next run, for a week at most.
 */
export async function purgeDeletedProjects(s: Services): Promise<{ purged: number }> {
  const cutoff = s.clock.now() - DELETED_RETENTION_DAYS * DAY_MS;
  let purged = 0;
  for await (const p of everyProject(s.kv)) {
    if (!p.deletedAt || Date.parse(p.deletedAt) > cutoff) continue;
    try {
      const ended = await endSubscriptions(s, p);
      if (!ended && Date.parse(p.deletedAt) > cutoff - PURGE_GRACE_MS) continue;
      await purgeProject(s.kv, p);
      s.caches.projects.set(p.pk, null);
      purged++;
    } catch (err) {
      // tried again at the next run; the projects after it are purged meanwhile
      s.logger.error("purge of a deleted project failed", { pk: p.pk, error: String(err) });
    }
  }
  return { purged };
}

/** Ends every subscription of a project not ended yet: false when one could not be. */
async function endSubscriptions(s: Services, p: Project): Promise<boolean> {
  let ok = true;
  let cursor: string | undefined;
  do {
    const page = await listCustomers(s.kv, p.pk, { limit: 500, ...(cursor ? { cursor } : {}) });
    for (const c of page.items) {
      const sub = c.subscription;
      if (!sub || sub.status === "canceled") continue;
      if (!await tryCancelNowAtProvider(s, p, sub.id, "a subscription of a deleted project")) {
        ok = false;
      }
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return ok;
}
