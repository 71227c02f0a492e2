/**
 * The sandbox's event delivery, at least once as Stripe's: every event is kept in the store before
 * it is sent through the webhook route, in the same commit as what it tells of (`kept`: a
 * checkout's completion, a subscription's renewal …), dropped once accepted, and sent again by the
 * sandbox's clock until it is (first after 1 s, then doubling up to an hour, for 3 days). A
 * provider call therefore succeeds whether or not the webhook route took its event at once (a
 * Stripe API call doesn't wait for your endpoint either), and a route that failed, or a process
 * that stopped mid-delivery or between the commit and the delivery, gets the event later; the
 * route takes each event once (its id is claimed).
 */
import {
  type KeptEvent,
  sandboxOutboxKeys,
  type SandboxOutboxStore,
} from "@/lib/kv/sandbox_outbox.ts";

/** First retry after this long; each next one after twice as long, at most `MAX_DELAY_MS`. */
const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 3_600_000;
/** Stripe retries an undelivered event for up to 3 days. */
const GIVE_UP_MS = 3 * 86_400_000;
/** Events sent again per clock tick, at most. */
const PER_TICK = 100;

/** Signs and sends one payload through the webhook route; throws unless it was accepted. */
export type Send = (payload: string) => Promise<void>;

export class SandboxOutbox {
  #store: SandboxOutboxStore;
  #now: () => number;
  #send: Send;

  constructor(store: SandboxOutboxStore, now: () => number, send: Send) {
    this.#store = store;
    this.#now = now;
    this.#send = send;
  }

  /**
   * Events to keep in the commit that makes what they tell of (their first retry due in 1 s, in
   * the order given: a retry sends them in that order too), then to `send`.
   */
  kept(events: { id: string; payload: string }[]): KeptEvent[] {
    const now = this.#now();
    return events.map((e, i) => ({
      key: sandboxOutboxKeys.event(now + FIRST_DELAY_MS + i, e.id),
      entry: { payload: e.payload, attempts: 1, firstAt: now },
    }));
  }

  /**
   * Sends kept events, in order, each dropped once the route took it: how many it took now (the
   * others stay kept, for the clock).
   */
  async send(events: KeptEvent[]): Promise<number> {
    let taken = 0;
    for (const e of events) {
      if (!(await this.#tried(e.entry.payload))) continue;
      await this.#store.dropEvent(e.key);
      taken++;
    }
    return taken;
  }

  /** Keeps one event on its own, then sends it: true when the route took it now. */
  async deliver(eventId: string, payload: string): Promise<boolean> {
    const events = this.kept([{ id: eventId, payload }]);
    await this.#store.keepEvents(events);
    return (await this.send(events)) === 1;
  }

  /**
   * Sends again what is due; answers how many the route took. Called by the provider's tick,
   * which never runs two at once.
   */
  async redeliver(): Promise<number> {
    const now = this.#now();
    let delivered = 0;
    for await (const e of this.#store.dueEvents(now, PER_TICK)) {
      if (await this.#tried(e.entry.payload)) {
        await this.#store.dropEvent(e.key);
        delivered++;
      } else if (now - e.entry.firstAt >= GIVE_UP_MS) {
        await this.#store.dropEvent(e.key);
      } else {
        const delay = Math.min(FIRST_DELAY_MS * 2 ** e.entry.attempts, MAX_DELAY_MS);
        await this.#store.retryEventLater(e, now + delay);
      }
    }
    return delivered;
  }

  async #tried(payload: string): Promise<boolean> {
    try {
      await this.#send(payload);
      return true;
    } catch {
      return false; // kept: the next tick tries again
    }
  }
}
