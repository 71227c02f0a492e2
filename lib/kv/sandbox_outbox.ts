/**
 * The sandbox's events waiting for delivery through the webhook route (its at-least-once
 * outbox): one row per event, keyed by when it is tried next, written in the commit that makes
 * what the event tells of (`keepIn`), dropped once the route took it.
 */

export const sandboxOutboxKeys = {
  /** An event not delivered yet, by when it is tried next (ISO). */
  event: (atMs: number, eventId: string) =>
    ["sandbox_outbox", new Date(atMs).toISOString(), eventId] as const,
  list: () => ["sandbox_outbox"] as const,
};

/** An event kept until its webhook delivery succeeds (Stripe retries for 3 days). */
export interface OutboxEntry {
  /** The event's JSON, signed again at each attempt. */
  payload: string;
  attempts: number;
  /** When it was first sent (ms). */
  firstAt: number;
}

/**
 * An event made to be kept in the commit that makes what it tells of (its outbox row, due at its
 * first retry), then sent: a process that stops between the two loses nothing.
 */
export interface KeptEvent {
  key: Deno.KvKey;
  entry: OutboxEntry;
}

/** Adds kept events to a commit. */
export function keepIn(op: Deno.AtomicOperation, events: KeptEvent[]) {
  for (const e of events) op.set(e.key, e.entry);
}

/** The outbox's rows on one KV. */
export class SandboxOutboxStore {
  #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Keeps events on their own (in a commit of their own), each tried again unless dropped. */
  async keepEvents(events: KeptEvent[]): Promise<void> {
    const op = this.#kv.atomic();
    keepIn(op, events);
    await op.commit();
  }

  /** The events due for another delivery at `atMs`, oldest due first. */
  async *dueEvents(
    atMs: number,
    limit: number,
  ): AsyncGenerator<{ key: Deno.KvKey; entry: OutboxEntry; versionstamp: string }> {
    const iter = this.#kv.list<OutboxEntry>({
      start: sandboxOutboxKeys.list(),
      end: [...sandboxOutboxKeys.list(), new Date(atMs + 1).toISOString()],
    }, { limit });
    for await (const e of iter) {
      yield { key: e.key, entry: e.value, versionstamp: e.versionstamp };
    }
  }

  /** An event delivered (or given up on): out of the outbox. */
  async dropEvent(key: Deno.KvKey): Promise<void> {
    await this.#kv.delete(key);
  }

  /** Moves an event to a later attempt, unless it was dropped or moved meanwhile. */
  async retryEventLater(
    e: { key: Deno.KvKey; entry: OutboxEntry; versionstamp: string },
    retryAt: number,
  ): Promise<void> {
    await this.#kv.atomic()
      .check({ key: e.key, versionstamp: e.versionstamp })
      .delete(e.key)
      .set(sandboxOutboxKeys.event(retryAt, e.key[2] as string), {
        ...e.entry,
        attempts: e.entry.attempts + 1,
      })
      .commit();
  }
}
