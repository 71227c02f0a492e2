/**
 * The outbound-webhook worker: fans new events out into one delivery per endpoint, then makes
 * the attempts that are due, one at a time per endpoint (a lease across instances), signed per
 * Standard Webhooks with `npm:standardwebhooks` (every live secret signs during a rotation).
 * An attempt has 10 s, follows no redirect and reads at most 4 KB of the answer; 2xx is
 * delivered, anything else waits 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h … and fails after 3
 * days. An endpoint whose attempts all fail for 3 days is disabled. Everything lives in the
 * store, so a restart (or another instance) carries on where this one stopped.
 */
import { Webhook } from "standardwebhooks";
import type { Services } from "@/lib/services.ts";
import type { Project, WebhookEndpoint } from "@/lib/kv/projects.ts";
import { getProject, updateProject } from "@/lib/kv/projects.ts";
import {
  type Attempt,
  type Delivery,
  dropDue,
  dropLease,
  dueDeliveries,
  fanOut,
  getDelivery,
  pendingEvents,
  saveDelivery,
  takeLease,
} from "@/lib/kv/webhook_outbox.ts";
import { eventBody } from "@/lib/outbound/events.ts";
import { endpointsFor, signingSecrets } from "@/lib/outbound/endpoints.ts";
import { checkTarget, pinnedTarget } from "@/lib/outbound/ssrf.ts";
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
const TIMEOUT_MS = 10 * SECOND;
const READ_LIMIT = 4096;
const holder = `w_${randomBase62(10)}`;

/** Fans out pending events and makes due attempts; answers what it did. */
export async function runWebhooks(s: Services): Promise<{ fannedOut: number; attempted: number }> {
  const fannedOut = await fanOutPending(s);
  const due = await dueDeliveries(s.kv, { now: s.clock.now(), limit: 500 });
  // per endpoint, in order and one at a time; endpoints side by side. An endpoint stops at its
  // first failure (the rest wait for its back-off rather than storm it)
  const byEndpoint = new Map<string, (typeof due)[number][]>();
  for (const d of due) {
    const k = `${d.pk}\u0000${d.endpointId}`;
    byEndpoint.set(k, [...(byEndpoint.get(k) ?? []), d]);
  }
  const results = await Promise.all([...byEndpoint.values()].map(async (list) => {
    let n = 0;
    for (const d of list.slice(0, 50)) {
      const r = await attemptOne(s, d);
      if (r === null) break;
      n++;
      if (!r) break;
    }
    return n;
  }));
  return { fannedOut, attempted: results.reduce((a, b) => a + b, 0) };
}

async function fanOutPending(s: Services): Promise<number> {
  let n = 0;
  const projects = new Map<string, Promise<Project | null>>(); // one read per project per run
  for (const ev of await pendingEvents(s.kv, 200)) {
    if (!projects.has(ev.pk)) projects.set(ev.pk, getProject(s.kv, ev.pk));
    const p = await projects.get(ev.pk)!;
    const ids = p ? endpointsFor(p, ev.type).map((e) => e.id) : [];
    if (
      await fanOut(s.kv, ev, {
        endpointIds: ids,
        body: () => eventBody(ev),
        now: s.clock.now(),
      })
    ) {
      n++;
    }
  }
  return n;
}

/** One attempt: true delivered, false failed, null when nothing was sent. */
async function attemptOne(
  s: Services,
  due: { pk: string; endpointId: string; id: string; dueKey: Deno.KvKey },
): Promise<boolean | null> {
  if (!(await takeLease(s.kv, due.pk, { endpointId: due.endpointId, holder, ms: 30 * SECOND }))) {
    return null;
  }
  try {
    const entry = await getDelivery(s.kv, due.pk, due.endpointId, due.id);
    if (!entry.value) {
      await dropDue(s.kv, due.dueKey); // a purged project's leftover: nothing to send
      return null;
    }
    if (entry.value.state !== "pending") return null;
    const project = await getProject(s.kv, due.pk);
    const endpoint = project?.webhooks?.find((e) => e.id === due.endpointId);
    const d = entry.value;
    const now = s.clock.now();
    if (!project || !endpoint || endpoint.disabledAt) {
      const why = !endpoint ? "endpoint deleted" : "endpoint disabled";
      await saveDelivery(s.kv, entry as Deno.KvEntry<Delivery>, {
        ...d,
        state: "failed",
        nextAt: null,
        attempts: [...d.attempts, { at: now, status: null, durationMs: 0, error: why }],
      });
      return null;
    }
    const attempt = await send(s, endpoint, d);
    const ok = attempt.status !== null && attempt.status >= 200 && attempt.status < 300;
    const attempts = [...d.attempts, attempt];
    const wait = BACKOFF_MS[attempts.length - 1] ?? BACKOFF_MS.at(-1)!;
    const giveUp = !ok && now + wait - d.createdAt > GIVE_UP_MS;
    await saveDelivery(s.kv, entry as Deno.KvEntry<Delivery>, {
      ...d,
      attempts,
      state: ok ? "delivered" : giveUp ? "failed" : "pending",
      nextAt: ok || giveUp ? null : now + wait,
    });
    await noteHealth(s, project, { endpoint, ok, now, gaveUp: giveUp });
    return ok;
  } finally {
    await dropLease(s.kv, due.pk, due.endpointId);
  }
}

/** One signed POST; never throws (its failure is the attempt's error). */
async function send(s: Services, endpoint: WebhookEndpoint, d: Delivery): Promise<Attempt> {
  const at = s.clock.now();
  const started = performance.now();
  const done = (status: number | null, error: string | null): Attempt => ({
    at,
    status,
    durationMs: Math.round(performance.now() - started),
    error,
  });
  try {
    const url = new URL(endpoint.url);
    // checked again now: the name may resolve elsewhere than when the endpoint was made
    const allowPrivate = s.config.webhookAllowPrivate;
    const addrs = await checkTarget(url, { allowPrivate });
    // plain http goes to the address just checked, not to a second resolution of the name
    const pin = allowPrivate ? null : pinnedTarget(url, addrs);
    const stamp = new Date(at);
    const signatures = (await signingSecrets(s, endpoint)).map((secret) =>
      new Webhook(secret).sign(d.id, stamp, d.body)
    );
    // a client that may send the Host header, for this attempt only
    using client = pin ? Deno.createHttpClient({ allowHost: true }) : null;
    const res = await fetch(pin ? pin.url : url, {
      method: "POST",
      body: d.body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "dream-api-webhooks/1",
        "webhook-id": d.id,
        "webhook-timestamp": String(Math.floor(at / 1000)),
        "webhook-signature": signatures.join(" "),
        ...(pin ? { Host: pin.host } : {}),
      },
      ...(client ? { client } : {}),
    });
    const excerpt = await readLimited(res);
    const ok = res.status >= 200 && res.status < 300;
    return done(
      res.status,
      ok
        ? null
        : res.status >= 300 && res.status < 400
        ? `redirect to ${res.headers.get("location") ?? "?"} not followed`
        : `HTTP ${res.status}${excerpt ? `: ${excerpt.slice(0, 200)}` : ""}`,
    );
  } catch (err) {
    return done(null, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
}

/** At most 4 KB of an answer (the rest is not read). */
async function readLimited(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, READ_LIMIT));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, Math.max(0, all.length - off));
    all.set(part, off);
    off += part.length;
  }
  return new TextDecoder().decode(all);
}

/**
 * Success clears the failing clock; 3 days of failures disable the endpoint (as does a delivery
 * that failed for good after its 3 days of retries while nothing succeeded).
 */
async function noteHealth(
  s: Services,
  p: Project,
  o: { endpoint: WebhookEndpoint; ok: boolean; now: number; gaveUp: boolean },
): Promise<void> {
  const e = o.endpoint;
  const since = e.failingSince;
  const next = o.ok
    ? (since === null ? null : { failingSince: null })
    : since === null
    ? { failingSince: o.now }
    : o.now - since >= GIVE_UP_MS || o.gaveUp // failing since, and a delivery failed for good
    ? { disabledAt: new Date(o.now).toISOString() }
    : null;
  if (!next) return;
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
}
