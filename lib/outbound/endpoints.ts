/**
 * A project's webhook endpoints: created with a `whsec_…` secret shown once (stored sealed with
 * a key derived from the app secret), listed, deleted, rotated with a 24 h overlap in which both
 * secrets sign, re-enabled. Kept in the project record, so knowing whether an event has anyone
 * to go to costs no read.
 */
import { z } from "zod";
import type { Services } from "@/lib/services.ts";
import type { Project, WebhookEndpoint } from "@/lib/kv/projects.ts";
import { updateProject } from "@/lib/kv/projects.ts";
import { openSecret, sealSecret } from "@/lib/crypto.ts";
import { ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import { HttpUrl } from "@/lib/schemas.ts";
import { ulid } from "@/lib/ids.ts";
import { getSchedules, resumeSchedule, type Schedule } from "@/lib/kv/webhook_schedules.ts";
import { BlockedTargetError, checkTarget } from "@/lib/outbound/ssrf.ts";

export const EVENT_TYPES = [
  "customer.created",
  "customer.deleted",
  "subscription.created",
  "subscription.updated",
  "subscription.canceled",
  "usage.limit_reached",
  "order.paid",
  "order.refunded",
  "product.sold_out",
  "ping",
] as const;
export type EventType = typeof EVENT_TYPES[number];

export const MAX_ENDPOINTS = 10;
const OVERLAP_MS = 24 * 3600_000;

export const EndpointInputSchema = z.object({
  url: HttpUrl,
  /** The types to send; `["*"]` (Stripe's spelling) or none given: every type, also later ones. */
  events: z.array(z.enum([...EVENT_TYPES, "*"])).min(1).max(EVENT_TYPES.length + 1).optional(),
}).strict();

/** The public shape of an endpoint (never a secret). */
export function publicEndpoint(e: WebhookEndpoint, schedule?: Schedule) {
  const failures = schedule?.streak ?? 0;
  return {
    id: e.id,
    url: e.url,
    events: e.events ?? [...EVENT_TYPES],
    createdAt: e.createdAt,
    disabled: e.disabledAt !== null,
    disabledAt: e.disabledAt,
    failingSince: e.failingSince === null ? null : new Date(e.failingSince).toISOString(),
    /** Attempts that failed in a row, and when the endpoint is tried again (its back-off). */
    failuresInARow: failures,
    nextAttemptAt: failures > 0 ? new Date(schedule!.at).toISOString() : null,
  };
}

/** The project's endpoints as the API shows them, with their back-off (one read). */
export async function listEndpoints(s: Services, p: Project) {
  const endpoints = p.webhooks ?? [];
  const schedules = await getSchedules(s.kv, p.pk, endpoints.map((e) => e.id));
  return endpoints.map((e) => publicEndpoint(e, schedules.get(e.id)));
}

function newSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `whsec_${btoa(String.fromCharCode(...bytes))}`;
}

/**
 * 422 when the URL may not receive webhooks (see lib/outbound/ssrf.ts); a name that does not
 * resolve (yet, or on a machine without DNS) is accepted, and its attempts fail until it does.
 */
async function checkUrl(s: Services, url: string) {
  try {
    await checkTarget(new URL(url), {
      allowPrivate: s.config.webhookAllowPrivate,
      unresolved: "accept",
    });
  } catch (err) {
    if (err instanceof BlockedTargetError) {
      throw new ValidationError(err.message, [{ field: "url", message: err.message }]);
    }
    throw err;
  }
}

function save(s: Services, pk: string, change: (p: Project) => Project) {
  return updateProject(s.kv, pk, change).then((p) => {
    s.caches.projects.set(pk, p);
    return p;
  });
}

const tooMany = () => new ConflictError(`A project has at most ${MAX_ENDPOINTS} webhook endpoints`);

export async function createEndpoint(
  s: Services,
  p: Project,
  input: z.infer<typeof EndpointInputSchema>,
) {
  if ((p.webhooks ?? []).length >= MAX_ENDPOINTS) throw tooMany();
  await checkUrl(s, input.url);
  const secret = newSecret();
  const now = s.clock.now();
  const endpoint: WebhookEndpoint = {
    id: `we_${ulid(now)}`,
    url: input.url,
    events: input.events && !input.events.includes("*")
      ? [...new Set(input.events as EventType[])]
      : null,
    createdAt: new Date(now).toISOString(),
    secrets: [{
      sealed: await sealSecret(s.webhookKey, secret),
      createdAt: new Date(now).toISOString(),
      expiresAt: null,
    }],
    failingSince: null,
    disabledAt: null,
  };
  await save(s, p.pk, (cur) => {
    // counted again on the record being written: concurrent creations can't pass the bound
    if ((cur.webhooks ?? []).length >= MAX_ENDPOINTS) throw tooMany();
    return { ...cur, webhooks: [...(cur.webhooks ?? []), endpoint] };
  });
  return { endpoint, secret };
}

export function findEndpoint(p: Project, id: string): WebhookEndpoint {
  const e = (p.webhooks ?? []).find((x) => x.id === id);
  if (!e) throw new NotFoundError(`No webhook endpoint ${id}`);
  return e;
}

export async function deleteEndpoint(s: Services, p: Project, id: string) {
  const e = findEndpoint(p, id);
  await save(s, p.pk, (cur) => ({
    ...cur,
    webhooks: (cur.webhooks ?? []).filter((x) => x.id !== id),
  }));
  return e;
}

/** A new secret (shown once); the current one keeps signing for 24 h beside it. */
export async function rotateEndpointSecret(s: Services, p: Project, id: string) {
  findEndpoint(p, id);
  const secret = newSecret();
  const now = s.clock.now();
  const sealed = await sealSecret(s.webhookKey, secret);
  await save(s, p.pk, (cur) => ({
    ...cur,
    webhooks: (cur.webhooks ?? []).map((e) =>
      e.id !== id ? e : {
        ...e,
        secrets: [
          { sealed, createdAt: new Date(now).toISOString(), expiresAt: null },
          ...e.secrets.filter((x) => x.expiresAt === null || x.expiresAt > now).map((x) => ({
            ...x,
            expiresAt: x.expiresAt ?? now + OVERLAP_MS,
          })),
        ],
      }
    ),
  }));
  return { secret, previousExpiresAt: new Date(now + OVERLAP_MS).toISOString() };
}

/** Enables a disabled endpoint again (its failing clock and back-off start over). */
export async function enableEndpoint(s: Services, p: Project, id: string) {
  findEndpoint(p, id);
  const next = await save(s, p.pk, (cur) => ({
    ...cur,
    webhooks: (cur.webhooks ?? []).map((e) =>
      e.id === id ? { ...e, disabledAt: null, failingSince: null } : e
    ),
  }));
  await resumeSchedule(s.kv, p.pk, { endpointId: id, now: s.clock.now() });
  return findEndpoint(next, id);
}

/** The secrets that sign now (the newest first), opened. */
export async function signingSecrets(s: Services, e: WebhookEndpoint): Promise<string[]> {
  const now = s.clock.now();
  const live = e.secrets.filter((x) => x.expiresAt === null || x.expiresAt > now);
  return await Promise.all(live.map((x) => openSecret(s.webhookKey, x.sealed)));
}

/** Whether an endpoint is enabled and takes this event type. */
const takes = (e: WebhookEndpoint, type: string) =>
  e.disabledAt === null && (e.events === null || e.events.includes(type as EventType));

/** The enabled endpoints of the project that take this event type. */
export function endpointsFor(p: Project, type: string): WebhookEndpoint[] {
  return (p.webhooks ?? []).filter((e) => takes(e, type));
}

/**
 * Whether any enabled endpoint of the project takes this event type (no read, and nothing
 * allocated: every refused usage call asks).
 */
export function wants(p: Project, type: EventType): boolean {
  return p.webhooks?.some((e) => takes(e, type)) ?? false;
}
