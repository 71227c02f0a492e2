/** Figures operators watch, read when /metrics is scraped: bounded reads of the due indexes. */
import { outboxKeys } from "@/lib/kv/webhook_outbox.ts";
import { reservationKeys } from "@/lib/kv/reservations.ts";

/** Entries under a prefix, counted up to `max` (a scrape never walks more than that). */
async function countUpTo(kv: Deno.Kv, prefix: Deno.KvKey, max: number): Promise<number> {
  let n = 0;
  for await (const _ of kv.list({ prefix }, { limit: max, batchSize: 500 })) n++;
  return n;
}

/** Webhook events waiting to be fanned out, and deliveries waiting in their endpoints' queues. */
export async function outboxDepth(kv: Deno.Kv, max = 10_000) {
  return {
    events: await countUpTo(kv, outboxKeys.allEvents(), max),
    deliveries: await countUpTo(kv, outboxKeys.allQueued(), max),
  };
}

/** How long the oldest store hold has been past its expiry (0 when none is overdue), in ms. */
export async function reservationSweepLag(kv: Deno.Kv, now: number): Promise<number> {
  for await (const e of kv.list({ prefix: reservationKeys.listDue() }, { limit: 1 })) {
    const due = Date.parse(String(e.key[1]));
    return Math.max(0, now - due);
  }
  return 0;
}
