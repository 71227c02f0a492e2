import assert from "node:assert/strict";
import {
  addEvents,
  type Delivery,
  DELIVERY_KEEP_MS,
  fanOut,
  getDelivery,
  moveLegacyDue,
  outboxKeys,
  pendingEvents,
  queuedFor,
  reschedule,
  saveDelivery,
  sendNow,
} from "@/lib/kv/webhook_outbox.ts";
import { dueEndpoints, getSchedule } from "@/lib/kv/webhook_schedules.ts";

const PK = "pk_test_outbox";
const EP = "we_1";
const T0 = Date.parse("2026-12-01T00:00:00.000Z");

function delivery(id: string, nextAt: number): Delivery & { nextAt: number } {
  return {
    id,
    pk: PK,
    endpointId: EP,
    type: "ping",
    body: "{}",
    createdAt: nextAt,
    state: "pending",
    attempts: [],
    nextAt,
  };
}

/** An event fanned out to the one endpoint at `now`. */
async function event(kv: Deno.Kv, now: number) {
  await addEvents(kv.atomic(), PK, { events: [{ type: "ping", data: {}, version: 1 }], now })
    .commit();
  const ev = (await pendingEvents(kv, { perProject: 1, projects: 1 }))[0]?.[0];
  assert.ok(await fanOut(kv, ev!, { endpointIds: [EP], body: () => "{}", now }));
}

const wakes = async (kv: Deno.Kv, now: number) =>
  (await dueEndpoints(kv, { now, limit: 10 })).map((d) => d.endpointId);

Deno.test("webhook queues: a new event wakes an idle endpoint now, waits for a back-off, and a ping goes through it", async () => {
  await using kv = await Deno.openKv(":memory:");
  await event(kv, T0);
  assert.deepEqual((await getSchedule(kv, PK, EP)).value, { at: T0, streak: 0 });
  assert.deepEqual(await wakes(kv, T0), [EP]);

  // a failure: paused 5 min with the delivery due again in 5 s
  const [q] = await queuedFor(kv, PK, { endpointId: EP, until: T0, limit: 10 });
  await kv.atomic().delete(outboxKeys.queued(PK, EP, q!.at, q!.id))
    .set(outboxKeys.queued(PK, EP, T0 + 5_000, q!.id), true).commit();
  await reschedule(kv, PK, { endpointId: EP, pauseUntil: T0 + 300_000, streak: 2 });
  assert.deepEqual(await wakes(kv, T0 + 5_000), [], "the pause wins over the delivery's own time");
  await event(kv, T0 + 10_000);
  assert.equal((await getSchedule(kv, PK, EP)).value!.at, T0 + 300_000, "new events wait");
  await sendNow(kv, delivery("msg_ping", T0 + 20_000));
  assert.equal((await getSchedule(kv, PK, EP)).value!.at, T0 + 20_000, "a ping goes through");
  assert.deepEqual(await wakes(kv, T0 + 20_000), [EP], "one wake entry, moved");
  assert.deepEqual(await wakes(kv, T0 + 400_000), [EP]);
});

Deno.test("webhook queues: an endpoint not in back-off is woken by a new event even when its queue's next delivery is later", async () => {
  await using kv = await Deno.openKv(":memory:");
  // its only delivery waits for its own back-off (2 h), the endpoint itself is fine (streak 0)
  await sendNow(kv, delivery("msg_later", T0 + 7_200_000));
  await reschedule(kv, PK, { endpointId: EP, pauseUntil: null, streak: 0 });
  assert.equal((await getSchedule(kv, PK, EP)).value!.at, T0 + 7_200_000);
  await event(kv, T0);
  assert.deepEqual(await wakes(kv, T0), [EP]);
});

Deno.test("webhook queues: an endpoint whose turn ended with deliveries left goes behind the endpoints due before it", async () => {
  await using kv = await Deno.openKv(":memory:");
  await event(kv, T0); // queued at T0, not sent: its turn ended at T0 + 2 s
  await sendNow(kv, { ...delivery("msg_other", T0 + 1_000), endpointId: "we_2" });
  assert.deepEqual(await wakes(kv, T0 + 2_000), [EP, "we_2"], "by when each became due");
  await reschedule(kv, PK, { endpointId: EP, pauseUntil: null, streak: 0, backInLine: T0 + 2_000 });
  assert.deepEqual((await getSchedule(kv, PK, EP)).value, { at: T0 + 2_000, streak: 0, until: 0 });
  assert.deepEqual(await wakes(kv, T0 + 2_000), ["we_2", EP], "due still, behind we_2");
});

Deno.test("webhook queues: an empty queue drops the schedule, and anything queued after brings it back", async () => {
  await using kv = await Deno.openKv(":memory:");
  await event(kv, T0);
  const [q] = await queuedFor(kv, PK, { endpointId: EP, limit: 10 });
  await kv.delete(outboxKeys.queued(PK, EP, q!.at, q!.id)); // delivered
  assert.equal(await reschedule(kv, PK, { endpointId: EP, pauseUntil: null, streak: 0 }), null);
  assert.equal((await getSchedule(kv, PK, EP)).value, null);
  assert.deepEqual(await wakes(kv, T0 + 1e9), []);
  await event(kv, T0 + 1_000);
  assert.deepEqual(await wakes(kv, T0 + 1_000), [EP]);
});

Deno.test("moveLegacyDue() moves the previous version's due index into the endpoints' queues", async () => {
  await using kv = await Deno.openKv(":memory:");
  const pending = delivery("msg_a", T0);
  const done = { ...delivery("msg_b", T0), state: "delivered" as const, nextAt: null };
  const legacy = (d: Delivery) =>
    ["webhook_due", new Date(T0).toISOString(), PK, EP, d.id] as const;
  await kv.atomic()
    .set(outboxKeys.delivery(PK, EP, pending.id), pending).set(legacy(pending), true)
    .set(outboxKeys.delivery(PK, EP, done.id), done).set(legacy(done), true)
    .commit();
  assert.equal(await moveLegacyDue(kv, 100), 2);
  assert.equal(await moveLegacyDue(kv, 100), 0);
  assert.deepEqual(await queuedFor(kv, PK, { endpointId: EP, limit: 10 }), [
    { id: "msg_a", at: T0 },
  ]);
  assert.deepEqual(await wakes(kv, T0), [EP]);
});

Deno.test("webhook queues: a worker emptying the queue while events arrive never strands a delivery", async () => {
  await using kv = await Deno.openKv(":memory:");
  for (let i = 0; i < 150; i++) {
    const now = T0 + i * 1000;
    await Promise.all([
      event(kv, now),
      (async () => {
        // a worker: delivers what it sees queued, then sets the schedule from what is left
        for (const q of await queuedFor(kv, PK, { endpointId: EP, limit: 10 })) {
          await kv.delete(outboxKeys.queued(PK, EP, q.at, q.id));
        }
        await reschedule(kv, PK, { endpointId: EP, pauseUntil: null, streak: 0 });
      })(),
    ]);
    const queued = await queuedFor(kv, PK, { endpointId: EP, limit: 10 });
    const schedule = (await getSchedule(kv, PK, EP)).value;
    if (queued.length > 0) {
      assert.ok(schedule && schedule.at <= queued[0]!.at, `round ${i}: queued but not scheduled`);
      assert.deepEqual(await wakes(kv, schedule.at), [EP], `round ${i}: the wake entry`);
    }
  }
});

Deno.test("pendingEvents() answers each project's first events, project by project, taking turns", async () => {
  await using kv = await Deno.openKv(":memory:");
  const add = (pk: string, n: number) =>
    addEvents(kv.atomic(), pk, {
      events: Array.from({ length: n }, (_, i) => ({ type: "ping", data: i, version: i })),
      now: T0,
    }).commit();
  await add("pk_test_a", 5);
  await add("pk_test_b", 2);
  await add("pk_test_c", 1);
  const got = await pendingEvents(kv, { perProject: 3, projects: 2 });
  assert.deepEqual(got.map((evs) => evs.map((e) => `${e.pk}:${e.data}`)), [
    ["pk_test_a:0", "pk_test_a:1", "pk_test_a:2"],
    ["pk_test_b:0", "pk_test_b:1"],
  ]);
  // the next passes take turns: after b, then round to the first
  const turn = async (after: string) =>
    (await pendingEvents(kv, { perProject: 1, projects: 2, after })).map((evs) => evs[0]!.pk);
  assert.deepEqual(await turn("pk_test_b"), ["pk_test_c", "pk_test_a"]);
  assert.deepEqual(await turn("pk_test_a"), ["pk_test_b", "pk_test_c"]);
  assert.deepEqual(await turn("pk_test_c"), ["pk_test_a", "pk_test_b"]);
  const all = await pendingEvents(kv, { perProject: 1, projects: 10, after: "pk_test_b" });
  assert.deepEqual(all.map((evs) => evs[0]!.pk), ["pk_test_c", "pk_test_a", "pk_test_b"]);
});

Deno.test("a delivery is kept 30 days once delivered or failed, and as long as it is pending", async () => {
  await using real = await Deno.openKv(":memory:");
  const writes: { key: string; expireIn: number | undefined }[] = [];
  const kv = new Proxy(real, {
    get(target, prop) {
      if (prop !== "atomic") return Reflect.get(target, prop)?.bind?.(target);
      return () => {
        const op = target.atomic();
        const set = op.set.bind(op);
        op.set = (key, value, o) => {
          if (key[0] === "webhook_deliveries") {
            writes.push({ key: String(key[3]), expireIn: o?.expireIn });
          }
          return set(key, value, o);
        };
        return op;
      };
    },
  });
  await sendNow(kv, delivery("msg_a", T0));
  const entry = await getDelivery(kv, PK, EP, "msg_a");
  const attempt = { at: T0, status: 200, durationMs: 5, error: null };
  await saveDelivery(kv, entry as Deno.KvEntry<Delivery>, {
    ...entry.value!,
    state: "delivered",
    nextAt: null,
    attempts: [attempt],
  });
  assert.deepEqual(writes, [
    { key: "msg_a", expireIn: undefined },
    { key: "msg_a", expireIn: DELIVERY_KEEP_MS },
  ]);
});

Deno.test("fanOut() to a project's 10 endpoints (the most it may have) is one commit", async () => {
  await using kv = await Deno.openKv(":memory:");
  const ids = Array.from({ length: 10 }, (_, i) => `we_${i}`);
  await addEvents(kv.atomic(), PK, { events: [{ type: "ping", data: {}, version: 1 }], now: T0 })
    .commit();
  const ev = (await pendingEvents(kv, { perProject: 1, projects: 1 }))[0]![0]!;
  assert.ok(await fanOut(kv, ev, { endpointIds: ids, body: () => "{}", now: T0 }));
  assert.deepEqual((await dueEndpoints(kv, { now: T0, limit: 20 })).map((d) => d.endpointId), ids);
  for (const endpointId of ids) {
    assert.equal((await queuedFor(kv, PK, { endpointId, limit: 5 })).length, 1);
  }
  assert.deepEqual(await pendingEvents(kv, { perProject: 1, projects: 1 }), []);
});

Deno.test("an endpoint's lease is dropped only by its holder: one lost to another holder stays theirs", async () => {
  await using kv = await Deno.openKv(":memory:");
  const { dropLease, takeLease } = await import("@/lib/kv/webhook_leases.ts");
  const o = { endpointId: EP, ms: 30_000 };
  assert.equal(await takeLease(kv, PK, { ...o, holder: "b" }), true);
  await dropLease(kv, PK, { endpointId: EP, holder: "a" }); // a's lease had expired, b took it
  assert.equal(await takeLease(kv, PK, { ...o, holder: "c" }), false, "still b's");
  await dropLease(kv, PK, { endpointId: EP, holder: "b" });
  assert.equal(await takeLease(kv, PK, { ...o, holder: "c" }), true);
});
