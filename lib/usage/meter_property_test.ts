/**
 * Properties of the log-structured meter, with two instances on one KV under random
 * interleavings of calls, reads, folds and time, one meter's store slow on every other seed
 * (seeded; METER_SEED replays one run's steps, not its timings):
 * no limit is ever passed, no acknowledged count is lost or counted twice, and folding changes
 * no count, however often it runs.
 */
import assert from "node:assert/strict";
import { prng } from "@/tests/prng.ts";
import { UsageMeter } from "@/lib/usage/meter.ts";
import { calendarMonth } from "@/lib/period.ts";
import { foldedCount, readLogPosition } from "@/lib/kv/usage.ts";
import { delayedKv } from "@/tests/helpers.ts";

const PK = "pk_test_property";
const CUSTOMERS = ["a", "b", "c", "d", "e"];
const LIMITS: Record<string, number | null> = { a: 5, b: 20, c: null, d: 1, e: 50 };

Deno.test("two meters on one KV: limits hold, acknowledged counts are kept exactly, folds are idempotent", async () => {
  const seeds = Deno.env.get("METER_SEED")
    ? [Number(Deno.env.get("METER_SEED"))]
    : Array.from({ length: Number(Deno.env.get("METER_SEEDS") ?? 40) }, (_, i) => 1000 + i);
  for (const seed of seeds) {
    const rnd = prng(seed);
    using kv = await Deno.openKv(":memory:");
    let now = Date.parse("2026-11-24T12:00:00Z");
    const period = calendarMonth(now);
    // every other seed, the first meter's store is slow the way a remote one is (commits answered
    // late, lists and reads late), so its catch-ups and commits overlap in every order
    const slow = seed % 2 === 0
      ? delayedKv(kv, {
        commitResult: Math.floor(rnd() * 6),
        list: Math.floor(rnd() * 6),
        read: Math.floor(rnd() * 4),
      }).kv
      : kv;
    // on two thirds of the seeds folds go through the tally buckets (else per-key tallies, as
    // with few customers), on half of those buckets of a few entries, so folds spill
    const buckets = seed % 3 === 0 ? {} : {
      bucketAt: 1,
      ...(seed % 2 ? { bucketBytes: 30 + Math.floor(rnd() * 60) } : {}),
    };
    // on a quarter of the seeds the meters hold fewer counts than there are customers, so the
    // ones loaded longest ago are dropped and read again as the steps go
    const bound = seed % 4 === 1 ? { maxCounts: 2 + Math.floor(rnd() * 3) } : {};
    const meters = [slow, kv].map((store) =>
      new UsageMeter(store, () => now, {
        ttlMs: 500,
        foldRows: 1 + Math.floor(rnd() * 8),
        ...buckets,
        ...bound,
      })
    );
    const acked = new Map(CUSTOMERS.map((c) => [c, 0]));
    /** what a customer had acknowledged when its usage was last reset */
    const work: Promise<unknown>[] = [];
    for (let step = 0; step < 120; step++) {
      const meter = meters[Math.floor(rnd() * 2)]!;
      const r = rnd();
      if (r < 0.8) {
        const c = CUSTOMERS[Math.floor(rnd() * CUSTOMERS.length)]!;
        const quantity = 1 + Math.floor(rnd() * 3);
        const idem = rnd() < 0.2
          ? { key: `k${Math.floor(rnd() * 10)}${c}`, fingerprint: `${c}${quantity}` }
          : undefined;
        work.push(
          meter.track({
            pk: PK,
            customerId: c,
            plan: "p",
            period,
            limit: LIMITS[c]!,
            quantity,
            ...(idem ? { idempotency: idem } : {}),
          }).then((o) => {
            if (o.kind === "counted") acked.set(c, acked.get(c)! + quantity);
          }),
        );
      } else if (r < 0.87) {
        work.push(meter.flush(PK));
      } else if (r < 0.94) {
        // reads catch up concurrently with the writers and each other
        const c = CUSTOMERS[Math.floor(rnd() * CUSTOMERS.length)]!;
        work.push(meter.peek(PK, c, period));
      } else if (r < 0.99) {
        now += Math.floor(rnd() * 800);
      } else {
        // weeks later: folds move the period's bucket entries out to per-key tallies
        now += 40 * 86_400_000;
      }
      if (rnd() < 0.3) await Promise.all(work.splice(0)); // let some settle, interleave the rest
      else if (slow !== kv && rnd() < 0.2) {
        await new Promise((r) => setTimeout(r, Math.floor(rnd() * 6))); // or part of the way
      }
    }
    await Promise.all(work);
    const label = `seed ${seed}`;
    for (const c of CUSTOMERS) {
      const limit = LIMITS[c]!;
      if (limit !== null) assert.ok(acked.get(c)! <= limit, `${label}: ${c} passed its limit`);
      now += 1000; // both meters catch up
      for (const m of meters) {
        assert.equal(
          await m.peek(PK, c, period),
          acked.get(c),
          `${label}: ${c} as one meter sees it`,
        );
      }
    }
    await meters[0]!.flush();
    const pos = await readLogPosition(kv, PK);
    assert.equal(pos.folded, pos.seq, `${label}: everything folded`);
    const counters = async () =>
      Object.fromEntries(
        await Promise.all(CUSTOMERS.map(async (c) => [
          c,
          await foldedCount(kv, PK, { customerId: c, periodStart: period.start }),
        ])),
      );
    const folded = await counters();
    assert.deepEqual(
      folded,
      Object.fromEntries(acked),
      `${label}: the counters hold every acknowledged count`,
    );
    await meters[1]!.flush();
    await meters[0]!.flush();
    assert.deepEqual(await counters(), folded, `${label}: folding again changes nothing`);
  }
});
