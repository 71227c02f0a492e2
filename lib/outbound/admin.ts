/** A developer's view of deliveries: the log per endpoint, a test `ping`, a manual retry. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { type Delivery, getDelivery, listDeliveries, sendNow } from "@/lib/kv/webhook_outbox.ts";
import { findEndpoint } from "@/lib/outbound/endpoints.ts";
import { eventBody } from "@/lib/outbound/events.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { ulid } from "@/lib/ids.ts";

export function publicDelivery(d: Delivery) {
  return {
    id: d.id,
    type: d.type,
    state: d.state,
    createdAt: new Date(d.createdAt).toISOString(),
    nextAttemptAt: d.nextAt === null ? null : new Date(d.nextAt).toISOString(),
    attempts: d.attempts.map((a) => ({
      at: new Date(a.at).toISOString(),
      status: a.status,
      durationMs: a.durationMs,
      error: a.error,
    })),
  };
}

export async function deliveryLog(
  s: Services,
  p: Project,
  o: { endpointId: string; limit?: number | undefined; cursor?: string | undefined },
) {
  findEndpoint(p, o.endpointId);
  const page = await listDeliveries(s.kv, p.pk, {
    endpointId: o.endpointId,
    limit: o.limit ?? 50,
    cursor: o.cursor,
  });
  return { deliveries: page.items.map(publicDelivery), nextCursor: page.nextCursor };
}

/**
 * Queues a `ping` for one endpoint, due now, through its back-off (the worker sends it within a
 * second).
 */
export async function sendTest(s: Services, p: Project, endpointId: string) {
  findEndpoint(p, endpointId);
  const now = s.clock.now();
  const id = `msg_${ulid(now)}`;
  const d: Delivery & { nextAt: number } = {
    id,
    pk: p.pk,
    endpointId,
    type: "ping",
    body: eventBody({
      type: "ping",
      data: { project: p.pk, endpoint: endpointId },
      version: now,
      createdAt: now,
    }),
    createdAt: now,
    state: "pending",
    attempts: [],
    nextAt: now,
  };
  await sendNow(s.kv, d);
  return publicDelivery(d);
}

/**
 * Sends a delivery again now, whatever its state (the same webhook-id and body), through its
 * endpoint's back-off.
 */
export async function retryDelivery(
  s: Services,
  p: Project,
  o: { endpointId: string; deliveryId: string },
) {
  findEndpoint(p, o.endpointId);
  const entry = await getDelivery(s.kv, p.pk, o.endpointId, o.deliveryId);
  if (!entry.value) throw new NotFoundError(`No delivery ${o.deliveryId}`);
  const next = { ...entry.value, state: "pending" as const, nextAt: s.clock.now() };
  await sendNow(s.kv, next, entry as Deno.KvEntry<Delivery>);
  return publicDelivery(next);
}
