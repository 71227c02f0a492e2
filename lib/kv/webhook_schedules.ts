/**
 * Webhook endpoint schedules: when the worker should look at each endpoint next, and how many of
 * its attempts failed in a row (its back-off), with the wake index (`webhook_wake`, ISO time
 * first) that finds the endpoints due. Every endpoint with queued deliveries has one
 * (lib/kv/webhook_outbox.ts keeps the two together).
 */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { instantKey } from "@/lib/kv/time_keys.ts";

/** When the worker looks at an endpoint next, and its attempts that failed in a row. */
export interface Schedule {
  at: number;
  streak: number;
  /** The end of its back-off (ms epoch; 0 or absent: none), which new deliveries wait for. */
  until?: number;
}

export const scheduleKeys = {
  schedule: (pk: string, endpointId: string) => ["webhook_sched", pk, endpointId] as const,
  /** The wake index: endpoints by the time their schedule says. */
  wake: (at: number, pk: string, endpointId: string) =>
    ["webhook_wake", instantKey(at), pk, endpointId] as const,
  allWakes: () => ["webhook_wake"] as const,
};

/**
 * Adds to `op` what makes the worker look at an endpoint by `at`: its schedule row is written
 * again (checked on `entry`, so a worker dropping it meanwhile fails and looks again), made
 * when missing, and moved earlier, though not before the end of its back-off (`until`), which
 * new events wait for and only `throughBackoff` (a test ping, a manual retry) skips.
 */
export function touchSchedule(
  op: Deno.AtomicOperation,
  entry: Deno.KvEntryMaybe<Schedule>,
  o: { pk: string; endpointId: string; at: number; throughBackoff: boolean },
): Deno.AtomicOperation {
  op = op.check(entry);
  const cur = entry.value;
  const at = cur && !o.throughBackoff ? Math.max(o.at, cur.until ?? 0) : o.at;
  const next = !cur ? { at, streak: 0 } : at < cur.at ? { ...cur, at } : cur;
  if (cur && next.at !== cur.at) op = op.delete(scheduleKeys.wake(cur.at, o.pk, o.endpointId));
  if (!cur || next.at !== cur.at) op = op.set(scheduleKeys.wake(next.at, o.pk, o.endpointId), true);
  return op.set(scheduleKeys.schedule(o.pk, o.endpointId), next);
}

/** Endpoints whose schedule is due by `now`, soonest first. */
export async function dueEndpoints(
  kv: Deno.Kv,
  o: { now: number; limit: number },
): Promise<{ pk: string; endpointId: string; wakeKey: Deno.KvKey }[]> {
  const out = [];
  for await (
    const e of kv.list({
      start: scheduleKeys.allWakes(),
      end: [...scheduleKeys.allWakes(), instantKey(o.now + 1)],
    }, { limit: o.limit })
  ) {
    const [, , pk, endpointId] = e.key as [string, string, string, string];
    out.push({ pk, endpointId, wakeKey: e.key });
  }
  return out;
}

export function getSchedule(kv: Deno.Kv, pk: string, endpointId: string) {
  return kv.get<Schedule>(scheduleKeys.schedule(pk, endpointId));
}

/** The schedules of a project's endpoints (at most 10, one read), by endpoint id. */
export async function getSchedules(
  kv: Deno.Kv,
  pk: string,
  endpointIds: string[],
): Promise<Map<string, Schedule>> {
  const out = new Map<string, Schedule>();
  if (endpointIds.length === 0) return out;
  const got = await kv.getMany<Schedule[]>(endpointIds.map((id) => scheduleKeys.schedule(pk, id)));
  got.forEach((e, i) => {
    if (e.value) out.set(endpointIds[i]!, e.value);
  });
  return out;
}

/**
 * Drops a wake entry that the schedule as read (`schedule`) doesn't stand behind (its project was
 * purged, or it moved), checked on it: a schedule moved back to that time meanwhile keeps it.
 */
export async function dropWake(
  kv: Deno.Kv,
  wakeKey: Deno.KvKey,
  schedule: Deno.KvEntryMaybe<Schedule>,
): Promise<void> {
  await kv.atomic().check(schedule).delete(wakeKey).commit();
}

/** Ends an endpoint's back-off (it was enabled again): the worker looks at it now. */
export function resumeSchedule(
  kv: Deno.Kv,
  pk: string,
  o: { endpointId: string; now: number },
): Promise<void> {
  return retryAtomic("resume a webhook endpoint", async () => {
    const entry = await getSchedule(kv, pk, o.endpointId);
    const cur = entry.value;
    if (!cur || (cur.streak === 0 && cur.at <= o.now)) return;
    const res = await kv.atomic().check(entry)
      .delete(scheduleKeys.wake(cur.at, pk, o.endpointId))
      .set(entry.key, { at: o.now, streak: 0, until: 0 })
      .set(scheduleKeys.wake(o.now, pk, o.endpointId), true)
      .commit();
    return res.ok ? undefined : RETRY;
  });
}
