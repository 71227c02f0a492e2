/**
 * The outbound-webhook worker: fans new events out into one delivery per endpoint, then works
 * on the endpoints that are due (lib/kv/webhook_outbox.ts keeps a queue and a schedule per
 * endpoint), each on its own: one instance at a time per endpoint (a lease in the store),
 * endpoints side by side (at most `WEBHOOK_CONCURRENCY` per instance, and while others wait for a
 * place an endpoint's turn ends after about a second), and no endpoint waits for another:
 * the job's pass starts what is due and returns, so a slow or failing receiver holds up only its
 * own deliveries. Each attempt is one signed POST (lib/outbound/send.ts: Standard Webhooks,
 * 10 s, no redirect followed, 4 KB of the answer read); 2xx is delivered, anything else waits 5 s,
 * 5 min, 30 min, 2 h, 5 h, 10 h, 10 h … and fails after 3 days. One failure delays no other
 * delivery (the next is tried on the next pass, as Stripe sends each event on its own); failures
 * in a row pause the endpoint (`pause`), so a receiver that is down gets one attempt per back-off
 * step, not one per queued delivery; a success carries on with the queue. An endpoint whose
 * attempts all fail for 3 days is disabled. Everything lives in the store, so a restart (or
 * another instance) carries on where this one stopped.
 */
import type { Services } from "@/lib/services.ts";
import type { Project, WebhookEndpoint } from "@/lib/kv/projects.ts";
import { getProject, updateProject } from "@/lib/kv/projects.ts";
import {
  type Delivery,
  dropQueued,
  fanOut,
  getDelivery,
  moveLegacyDue,
  pendingEvents,
  type Queued,
  queuedFor,
  reschedule,
  saveDelivery,
} from "@/lib/kv/webhook_outbox.ts";
import { dropLease, takeLease } from "@/lib/kv/webhook_leases.ts";
import { dropWake, dueEndpoints, getSchedule } from "@/lib/kv/webhook_schedules.ts";
import { eventBody } from "@/lib/outbound/events.ts";
import { endpointsFor } from "@/lib/outbound/endpoints.ts";
import { send } from "@/lib/outbound/send.ts";
import { randomBase62 } from "@/lib/ids.ts";

const SECOND = 1000;
const HOUR = 3600 * SECOND;
export const BACKOFF_MS = [
  5 * SECOND,
  5 * 60 * SECOND,
  30 * 60 * SECOND,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
];
export const GIVE_UP_MS = 72 * HOUR;
/** Attempts, and time, one endpoint gets before it goes back in line behind the others. */
const DRAIN_ATTEMPTS = 50;
const DRAIN_MS = 30 * SECOND;
/**
 * An endpoint's time while others wait for a place (every place taken, by slow receivers say):
 * its turn ends after the attempt under way, so the ones waiting wait about one attempt.
 */
const CROWDED_DRAIN_MS = SECOND;
/** Entries of the previous version's due index moved a pass, until none is left. */
const LEGACY_PER_PASS = 100;
/** An endpoint's lease: longer than an attempt (10 s), renewed before each one. */
const LEASE_MS = 30 * SECOND;

/** The back-off after the `n`th attempt (1-based) that failed. */
const backoff = (n: number) => BACKOFF_MS[Math.min(n, BACKOFF_MS.length) - 1]!;
/**
 * How long an endpoint pauses after `n` failures in a row: not at all after one (as with Stripe,
 * one event's failure delays no other event; the next is tried on the next pass), then the
 * back-off one step behind (5 s after two, 5 min after three …).
 */
const pause = (n: number) => (n <= 1 ? 0 : backoff(n - 1));

/** What each instance (each `Services`) is working on now, and whether it is stopping. */
interface Worker {
  busy: Map<string, Promise<number>>;
  stopping: boolean;
  /** Names this instance in the endpoints' leases. */
  holder: string;
  /** The last pass found a due endpoint with no place to work on it (turns are short then). */
  crowded: boolean;
  /** The project whose events the last pass fanned out last (the next pass starts after it). */
  fannedOutLast?: string | undefined;
  /** The previous version's due index is all moved (nothing writes it any more). */
  legacyMoved?: boolean;
}
const workers = new WeakMap<Services, Worker>();

function workerOf(s: Services): Worker {
  let w = workers.get(s);
  if (!w) {
    w = { busy: new Map(), stopping: false, holder: `w_${randomBase62(10)}`, crowded: false };
    workers.set(s, w);
  }
  return w;
}

/**
 * For shutting down: no new work starts, each endpoint's work ends after the attempt it is
 * making (at most 10 s), and this resolves once all of it has.
 */
export async function stopWebhooks(s: Services): Promise<void> {
  const w = workerOf(s);
  w.stopping = true;
  await Promise.all(w.busy.values());
}

/**
 * The job's pass: moves events into deliveries and starts work on every endpoint that is due and
 * not worked on already, without waiting for it (each endpoint's work logs its own failure).
 * Answers what it fanned out and the work it started (each answers the attempts it made).
 */
export async function startWebhooks(
  s: Services,
): Promise<{ fannedOut: number; started: Promise<number>[] }> {
  const w = workerOf(s);
  if (w.stopping) return { fannedOut: 0, started: [] };
  if (!w.legacyMoved) {
    w.legacyMoved = (await moveLegacyDue(s.kv, LEGACY_PER_PASS)) < LEGACY_PER_PASS;
  }
  const fannedOut = await fanOutPending(s, w);
  const started: Promise<number>[] = [];
  const now = s.clock.now();
  let crowded = false;
  for (const due of await dueEndpoints(s.kv, { now, limit: 200 })) {
    const k = `${due.pk}\u0000${due.endpointId}`;
    if (w.busy.has(k)) continue;
    if (w.stopping) break;
    if (w.busy.size >= s.config.webhookConcurrency) {
      crowded = true;
      break;
    }
    const work = drain(s, w, due)
      .catch((err) => {
        s.logger.error("webhook delivery failed", {
          pk: due.pk,
          endpoint: due.endpointId,
          error: String(err),
        });
        return 0;
      })
      .finally(() => w.busy.delete(k));
    w.busy.set(k, work);
    started.push(work);
  }
  w.crowded = crowded;
  return { fannedOut, started };
}

/** One whole pass, waited for: fans out, then makes every attempt that is due now. */
export async function runWebhooks(s: Services): Promise<{ fannedOut: number; attempted: number }> {
  const { fannedOut, started } = await startWebhooks(s);
  const attempted = (await Promise.all(started)).reduce((a, b) => a + b, 0);
  return { fannedOut, attempted };
}

/**
 * Fans out waiting events: up to 100 of each of up to 50 projects a pass (taking turns past 50),
 * projects side by side and each project's in order, so one project's burst delays no other
 * project's events.
 */
async function fanOutPending(s: Services, w: Worker): Promise<number> {
  const byProject = await pendingEvents(s.kv, {
    perProject: 100,
    projects: 50,
    after: w.fannedOutLast,
  });
  w.fannedOutLast = byProject.at(-1)?.[0]?.pk;
  const counts = await Promise.all(byProject.map(async (events) => {
    const p = await getProject(s.kv, events[0]!.pk); // one read per project per pass
    let n = 0;
    for (const ev of events) {
      const ids = p ? endpointsFor(p, ev.type).map((e) => e.id) : [];
      const body = () => eventBody(ev);
      if (await fanOut(s.kv, ev, { endpointIds: ids, body, now: s.clock.now() })) n++;
    }
    return n;
  }));
  return counts.reduce((a, b) => a + b, 0);
}

/**
 * Works on one due endpoint, holding its lease throughout (one instance at a time, so the back-off
 * one sets is the one the next reads): its queued deliveries that are due, in order, until one
 * fails (the endpoint then pauses for its back-off), the queue has nothing more due, or its share
 * of attempts or time is used; then sets when to look at it next. Answers the attempts it made.
 */
async function drain(
  s: Services,
  w: Worker,
  due: { pk: string; endpointId: string; wakeKey: Deno.KvKey },
): Promise<number> {
  const { pk, endpointId } = due;
  const lease = () => takeLease(s.kv, pk, { endpointId, holder: w.holder, ms: LEASE_MS });
  if (!(await lease())) return 0; // another instance works on it (and schedules it after)
  try {
    // read under the lease: another instance's work may have ended since the wake was listed
    const entry = await getSchedule(s.kv, pk, endpointId);
    const schedule = entry.value;
    const now = s.clock.now();
    if (!schedule || schedule.at !== Date.parse(String(due.wakeKey[1]))) {
      await dropWake(s.kv, due.wakeKey, entry); // its project was purged, or the schedule moved
      return 0;
    }
    if (schedule.at > now) return 0;
    let project = await getProject(s.kv, pk);
    let endpoint = project?.webhooks?.find((e) => e.id === endpointId);
    const queued = await queuedFor(s.kv, pk, { endpointId, until: now, limit: DRAIN_ATTEMPTS });
    let streak = schedule.streak;
    let pauseUntil: number | null = null;
    let attempted = 0;
    let shareUsed = false;
    const started = performance.now();
    for (const q of queued) {
      if (!project || !endpoint || endpoint.disabledAt) {
        const why = !endpoint ? "endpoint deleted" : "endpoint disabled";
        await endDelivery(s, { pk, endpointId, q, why });
        continue;
      }
      // renewed before each attempt; lost (expired, taken) means another instance works on it
      if (attempted > 0 && !(await lease())) return attempted;
      const r = await attemptOne(s, { project, endpoint, q, streak });
      if (r === null) continue;
      attempted++;
      ({ project, endpoint } = r);
      if (r.ok) streak = 0;
      else {
        streak++;
        pauseUntil = s.clock.now() + pause(streak);
        break;
      }
      const turn = w.crowded ? CROWDED_DRAIN_MS : DRAIN_MS;
      if (performance.now() - started > turn || w.stopping) {
        shareUsed = true;
        break;
      }
    }
    // its share used with deliveries left, it goes back in line behind the endpoints due now
    if (queued.length === DRAIN_ATTEMPTS && pauseUntil === null) shareUsed = true;
    await reschedule(s.kv, pk, {
      endpointId,
      pauseUntil,
      streak,
      ...(shareUsed ? { backInLine: s.clock.now() } : {}),
    });
    return attempted;
  } finally {
    await dropLease(s.kv, pk, { endpointId, holder: w.holder });
  }
}

/** Ends a queued delivery unsent (its endpoint was deleted or disabled). */
async function endDelivery(
  s: Services,
  o: { pk: string; endpointId: string; q: Queued; why: string },
): Promise<void> {
  const entry = await getDelivery(s.kv, o.pk, o.endpointId, o.q.id);
  const d = entry.value;
  if (!d || d.state !== "pending" || d.nextAt !== o.q.at) {
    await dropQueued(s.kv, o.pk, { endpointId: o.endpointId, q: o.q, entry });
    return;
  }
  await saveDelivery(s.kv, entry as Deno.KvEntry<Delivery>, {
    ...d,
    state: "failed",
    nextAt: null,
    attempts: [...d.attempts, { at: s.clock.now(), status: null, durationMs: 0, error: o.why }],
  });
}

/** An attempt's result, with the project and endpoint as they are now. */
type Outcome = { ok: boolean; project: Project; endpoint: WebhookEndpoint };

/**
 * One attempt at a queued delivery (its endpoint's attempts having failed `streak` times in a
 * row before it); null when nothing was sent (it moved on meanwhile). A failure waits for the
 * longer of the delivery's own back-off and its endpoint's.
 */
async function attemptOne(
  s: Services,
  o: { project: Project; endpoint: WebhookEndpoint; q: Queued; streak: number },
): Promise<Outcome | null> {
  const { project, endpoint } = o;
  const entry = await getDelivery(s.kv, project.pk, endpoint.id, o.q.id);
  const d = entry.value;
  if (!d || d.state !== "pending" || d.nextAt !== o.q.at) {
    // an entry no delivery stands behind (none is left by this code: each moves with its record)
    await dropQueued(s.kv, project.pk, { endpointId: endpoint.id, q: o.q, entry });
    return null;
  }
  const now = s.clock.now();
  const attempt = await send(s, endpoint, d);
  const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
  const attempts = [...d.attempts, attempt];
  const wait = Math.max(backoff(attempts.length), pause(o.streak + 1));
  const giveUp = !ok && now + wait - d.createdAt > GIVE_UP_MS;
  await saveDelivery(s.kv, entry as Deno.KvEntry<Delivery>, {
    ...d,
    attempts,
    state: ok ? "delivered" : giveUp ? "failed" : "pending",
    nextAt: ok || giveUp ? null : now + wait,
  });
  return { ok, ...await noteHealth(s, project, { endpoint, ok, now, gaveUp: giveUp }) };
}

/**
 * Success clears the failing clock; 3 days of failures disable the endpoint (as does a delivery
 * that failed for good after its 3 days of retries while nothing succeeded). Answers the project
 * and endpoint as they are now.
 */
async function noteHealth(
  s: Services,
  p: Project,
  o: { endpoint: WebhookEndpoint; ok: boolean; now: number; gaveUp: boolean },
): Promise<{ project: Project; endpoint: WebhookEndpoint }> {
  const e = o.endpoint;
  const since = e.failingSince;
  const next = o.ok
    ? (since === null ? null : { failingSince: null })
    : since === null
    ? { failingSince: o.now }
    : o.now - since >= GIVE_UP_MS || o.gaveUp // failing since, and a delivery failed for good
    ? { disabledAt: new Date(o.now).toISOString() }
    : null;
  if (!next) return { project: p, endpoint: e };
  const saved = await updateProject(s.kv, p.pk, (cur) => ({
    ...cur,
    webhooks: (cur.webhooks ?? []).map((x) => x.id === e.id ? { ...x, ...next } : x),
  }));
  s.caches.projects.set(p.pk, saved);
  if ("disabledAt" in next) {
    s.logger.warn("webhook endpoint disabled after failing for 3 days", {
      pk: p.pk,
      endpoint: e.id,
    });
  }
  return { project: saved, endpoint: saved.webhooks?.find((x) => x.id === e.id) ?? e };
}
