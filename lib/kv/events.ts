/** Provider events: the claim that makes each event apply once, and a per-project event log. */
export interface EventLogEntry {
  id: string;
  type: string;
  created: number;
  summary: string;
  outcome: string;
}

export const eventKeys = {
  /** Claimed atomically with an event's effects; a second delivery finds it and changes nothing. */
  claim: (eventId: string) => ["stripe_events", eventId] as const,
  /** The project's event log, newest last (ULID keys). */
  log: (pk: string, ulid: string) => ["project_events", pk, ulid] as const,
  listLog: (pk: string) => ["project_events", pk] as const,
};

/** One page of a project's events, newest first. */
export async function listEvents(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string },
) {
  const iter = kv.list<EventLogEntry>({ prefix: eventKeys.listLog(pk) }, {
    limit: opts.limit,
    reverse: true,
    ...(opts.cursor ? { cursor: opts.cursor } : {}),
  });
  const items: EventLogEntry[] = [];
  for await (const e of iter) items.push(e.value);
  return { items, nextCursor: items.length === opts.limit && iter.cursor ? iter.cursor : null };
}
