/**
 * Outbound events as the change that causes them writes them: nothing when no enabled endpoint
 * of the project takes the type (decided on the project in hand, no read), else one outbox row
 * for the caller's commit. The object is the API's shape; `version` grows with each change, so
 * a receiver can ignore an older state that arrives late.
 */
import type { Project } from "@/lib/kv/projects.ts";
import type { OutboxEvent } from "@/lib/kv/webhook_outbox.ts";
import { type EventType, wants } from "@/lib/outbound/endpoints.ts";

export function webhookEvents(
  p: Project,
  type: EventType,
  o: { object: unknown; version: number },
): OutboxEvent[] {
  return wants(p, type) ? [{ type, data: o.object, version: o.version }] : [];
}

/** The body every delivery of an event carries (Standard Webhooks' `{type, timestamp, data}`). */
export function eventBody(
  e: { type: string; data: unknown; version: number; createdAt: number },
): string {
  return JSON.stringify({
    type: e.type,
    timestamp: new Date(e.createdAt).toISOString(),
    data: { object: e.data, version: e.version },
  });
}
