/**
 * [e2e] Outbound webhooks, one endpoint beside the others: a failing endpoint's backlog, a slow
 * receiver and one project's burst of events hold up no other endpoint's deliveries, and a
 * receiver that is down gets one attempt per back-off step rather than one per queued delivery.
 */
import assert from "node:assert/strict";
import { developer, project, proxyKv, testApp, TestClock } from "@/tests/helpers.ts";
import { BACKOFF_MS, runWebhooks, stopWebhooks } from "@/lib/outbound/deliver.ts";
import { backgroundJobs, startJobs } from "@/server/jobs.ts";
import { type Delivery, outboxKeys } from "@/lib/kv/webhook_outbox.ts";
import { scheduleKeys } from "@/lib/kv/webhook_schedules.ts";
import { webhookReceiver as receiver } from "@/tests/webhook_receiver.ts";

const config = { webhookAllowPrivate: true };

/** Queues `n` test pings for an endpoint (what a burst of events does). */
async function pings(app: Awaited<ReturnType<typeof testApp>>, o: {
  dat: string;
  pk: string;
  endpointId: string;
  n: number;
}) {
  for (let i = 0; i < o.n; i++) {
    const r = await app.call("POST", `/v1/projects/${o.pk}/webhooks/${o.endpointId}/test`, {
      key: o.dat,
    });
    assert.equal(r.status, 202, r.text);
  }
}

/** Runs the webhooks job, half a back-off step apart, until the project's endpoint is disabled. */
async function failUntilDisabled(
  app: Awaited<ReturnType<typeof testApp>>,
  o: { pk: string; dat: string },
) {
  const disabled = async () =>
    (await app.call("GET", `/v1/projects/${o.pk}/webhooks`, { key: o.dat })).body.endpoints[0]
      .disabled;
  for (let i = 0; i < 40 && !(await disabled()); i++) {
    await runWebhooks(app.services);
    app.clock.advance(BACKOFF_MS.at(-1)! / 2);
  }
  assert.equal(await disabled(), true);
}

/** Adds an endpoint for `url` to a project; answers its id. */
async function endpoint(
  app: Awaited<ReturnType<typeof testApp>>,
  o: { dat: string; pk: string; url: string },
): Promise<string> {
  const r = await app.call("POST", `/v1/projects/${o.pk}/webhooks`, {
    key: o.dat,
    body: { url: o.url },
  });
  assert.equal(r.status, 201, r.text);
  return r.body.endpoint.id;
}

Deno.test("[e2e] a failing endpoint with 600 queued deliveries: another project's events still go out, the failing one is paused by its back-off, and drains once it answers again", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  let down = true;
  await using failing = receiver({ answer: () => (down ? 500 : 200) });
  await using healthy = receiver();
  const dev = await developer(app);
  const a = await project(app, dev.dat);
  const b = await project(app, dev.dat);
  const epA = await endpoint(app, { dat: dev.dat, pk: a.pk, url: failing.url });
  await endpoint(app, { dat: dev.dat, pk: b.pk, url: healthy.url });
  await pings(app, { dat: dev.dat, pk: a.pk, endpointId: epA, n: 600 });
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 0, attempted: 1 });

  // B's event comes after A's 600 deliveries, all due before it
  const made = await app.call("POST", "/api/customers", { key: b.sk, body: { id: "bea" } });
  assert.equal(made.status, 201, made.text);
  for (let i = 0; i < 3; i++) await runWebhooks(app.services);
  assert.equal(healthy.ids.length, 1, "B's customer.created went out");
  // one failure delays nothing (A's next delivery went on the next pass); the second in a row
  // pauses A: two attempts in these passes, not one per pass
  assert.equal(failing.ids.length, 2, "a second attempt, then A waits for its back-off");

  // each back-off step: one attempt, with the steps growing
  for (const step of BACKOFF_MS.slice(0, 3)) {
    app.clock.advance(step - 1000);
    await runWebhooks(app.services);
    const before: number = failing.ids.length;
    app.clock.advance(1000);
    await runWebhooks(app.services);
    assert.equal(failing.ids.length, before + 1, `one attempt after ${step} ms`);
  }
  assert.equal(failing.ids.length, 5);
  // each wake tried a delivery not tried before (queued earliest), and each waits as long as its
  // endpoint does: 5 s, 5 s, then 5 min, 30 min, 2 h (each their first failure, not 5 s each)
  const log: Delivery[] = [];
  for await (
    const e of app.kv.list<Delivery>({ prefix: outboxKeys.listDeliveries(a.pk, epA) }, {
      limit: 10, // the oldest: the ones tried
    })
  ) log.push(e.value);
  const waits = log.filter((d) => d.attempts.length > 0).map((d) =>
    d.nextAt! - d.attempts.at(-1)!.at
  ).sort((x, y) => x - y);
  assert.deepEqual(waits, [BACKOFF_MS[0], ...BACKOFF_MS.slice(0, 4)]);

  const shown = async () =>
    (await app.call("GET", `/v1/projects/${a.pk}/webhooks`, { key: dev.dat })).body.endpoints[0];
  const paused = await shown();
  assert.equal(paused.failuresInARow, 5);
  assert.equal(Date.parse(paused.nextAttemptAt), app.clock.now() + BACKOFF_MS[3]!);
  const page = await app.call("GET", `/dashboard/projects/${a.pk}/webhooks`, {
    headers: { Cookie: dev.cookie },
  });
  assert.equal(page.status, 200);
  assert.match(page.text, /5 failed in a row · next attempt \d{4}-\d\d-\d\d \d\d:\d\d UTC/);

  // A answers again: the whole queue drains, each delivery once, in order of queueing
  down = false;
  app.clock.advance(BACKOFF_MS[3]!);
  for (let i = 0; i < 20 && new Set(failing.ids).size < 600; i++) await runWebhooks(app.services);
  assert.equal(new Set(failing.ids).size, 600, "every queued delivery went out");
  assert.equal(failing.ids.length, 605, "five failed attempts, then each delivery once");
  const left = [];
  for await (const e of app.kv.list({ prefix: outboxKeys.allQueued() })) left.push(e.key);
  assert.deepEqual(left, [], "nothing left queued");
  assert.deepEqual([(await shown()).failuresInARow, (await shown()).nextAttemptAt], [0, null]);
  // and the next event goes out at once
  await app.call("POST", "/api/customers", { key: a.sk, body: { id: "ada" } });
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 1, attempted: 1 });
});

Deno.test("[e2e] the webhooks job: a slow receiver holds up no other endpoint's deliveries", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  await using slow = receiver({ delayMs: 700 });
  await using quick = receiver();
  const dev = await developer(app);
  const a = await project(app, dev.dat);
  const b = await project(app, dev.dat);
  const epA = await endpoint(app, { dat: dev.dat, pk: a.pk, url: slow.url });
  const epB = await endpoint(app, { dat: dev.dat, pk: b.pk, url: quick.url });
  await pings(app, { dat: dev.dat, pk: a.pk, endpointId: epA, n: 6 });
  const jobs = startJobs(backgroundJobs(app).filter((j) => j.name === "webhooks"), app.logs);
  try {
    const until = async (what: () => boolean) => {
      for (let i = 0; i < 200 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
      assert.ok(what());
    };
    await until(() => slow.ids.length >= 1);
    // A's six answers take 4.2 s: B's ping, queued now, goes out while they are under way
    await pings(app, { dat: dev.dat, pk: b.pk, endpointId: epB, n: 1 });
    await until(() => quick.ids.length === 1);
    assert.ok(slow.answered() < 6, `B waited for A's ${slow.answered()} answers`);
  } finally {
    jobs.stop();
    await stopWebhooks(app.services);
  }
  assert.ok(slow.answered() < 6, "stopping ends A's work after the attempt under way");
  assert.equal(app.logs.lines.filter((l) => l.level === "error").length, 0);
});

Deno.test("[e2e] the webhooks job with every place taken by slow receivers: a turn ends after about a second, and the endpoint waiting goes next", async () => {
  await using app = await testApp({
    clock: new TestClock(new Date().toISOString()),
    config: { ...config, webhookConcurrency: 2 },
  });
  await using slow1 = receiver({ delayMs: 700 });
  await using slow2 = receiver({ delayMs: 700 });
  await using quick = receiver();
  const dev = await developer(app);
  for (const rx of [slow1, slow2]) {
    const p = await project(app, dev.dat);
    const ep = await endpoint(app, { dat: dev.dat, pk: p.pk, url: rx.url });
    await pings(app, { dat: dev.dat, pk: p.pk, endpointId: ep, n: 8 });
  }
  const c = await project(app, dev.dat);
  const epC = await endpoint(app, { dat: dev.dat, pk: c.pk, url: quick.url });
  const jobs = startJobs(backgroundJobs(app).filter((j) => j.name === "webhooks"), app.logs);
  const until = async (what: () => boolean) => {
    for (let i = 0; i < 400 && !what(); i++) await new Promise((r) => setTimeout(r, 25));
  };
  try {
    await until(() => slow1.ids.length >= 1 && slow2.ids.length >= 1);
    // both places are taken for 5.6 s of answers: C's ping waits for a place
    app.clock.advance(1000);
    await pings(app, { dat: dev.dat, pk: c.pk, endpointId: epC, n: 1 });
    app.clock.advance(1000); // a turn ending from now on goes behind C's ping
    await until(() => quick.ids.length === 1);
    assert.equal(quick.ids.length, 1);
    const slowAnswers = slow1.answered() + slow2.answered();
    assert.ok(slowAnswers < 8, `C waited for ${slowAnswers} slow answers`);
    // the slow endpoints carry on, taking turns
    await until(() => slow1.ids.length === 8 && slow2.ids.length === 8);
    assert.equal(slow1.ids.length + slow2.ids.length, 16);
  } finally {
    jobs.stop();
    await stopWebhooks(app.services);
  }
  assert.equal(app.logs.lines.filter((l) => l.level === "error").length, 0);
});

Deno.test("[e2e] one project's burst of 450 events: another project's event is fanned out and sent in the same pass", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  await using rxBurst = receiver();
  await using rxOther = receiver();
  const dev = await developer(app);
  // the burst goes to the project whose key sorts first: its events are listed first
  const [first, second] = [await project(app, dev.dat), await project(app, dev.dat)]
    .sort((x, y) => (x.pk < y.pk ? -1 : 1));
  await endpoint(app, { dat: dev.dat, pk: first!.pk, url: rxBurst.url });
  await endpoint(app, { dat: dev.dat, pk: second!.pk, url: rxOther.url });
  for (let i = 0; i < 450; i++) {
    await app.call("POST", "/api/customers", { key: first!.sk, body: { id: `burst_${i}` } });
  }
  await app.call("POST", "/api/customers", { key: second!.sk, body: { id: "other" } });
  await runWebhooks(app.services);
  assert.equal(rxOther.ids.length, 1, "the other project's event went out in the first pass");
  for (let i = 0; i < 20 && rxBurst.ids.length < 450; i++) await runWebhooks(app.services);
  assert.equal(new Set(rxBurst.ids).size, 450);
});

Deno.test("[e2e] a queue entry no delivery stands behind is dropped, not tried every second", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  await using rx = receiver();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const endpointId = await endpoint(app, { dat: dev.dat, pk: pk, url: rx.url });
  await pings(app, { dat: dev.dat, pk, endpointId, n: 1 });
  for await (const e of app.kv.list({ prefix: outboxKeys.listDeliveries(pk, endpointId) })) {
    await app.kv.delete(e.key); // its record gone, its queue entry left
  }
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 0, attempted: 0 });
  const left = [];
  for await (const e of app.kv.list({ prefix: outboxKeys.allQueued() })) left.push(e.key);
  for await (const e of app.kv.list({ prefix: scheduleKeys.allWakes() })) left.push(e.key);
  assert.deepEqual(left, []);
  assert.equal(rx.ids.length, 0);
});

Deno.test("[e2e] an endpoint enabled again after failing for 3 days gets its next event at once, not after its back-off", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  let down = true;
  await using rx = receiver({ answer: () => (down ? 500 : 200) });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat);
  const endpointId = await endpoint(app, { dat: dev.dat, pk: pk, url: rx.url });
  await pings(app, { dat: dev.dat, pk, endpointId, n: 3 });
  await failUntilDisabled(app, { pk, dat: dev.dat });
  down = false;
  const on = await app.call("POST", `/v1/projects/${pk}/webhooks/${endpointId}/enable`, {
    key: dev.dat,
  });
  assert.equal(on.status, 200, on.text);
  const before: number = rx.ids.length;
  await app.call("POST", "/api/customers", { key: sk, body: { id: "back" } });
  await runWebhooks(app.services);
  const log = (await app.call("GET", `/v1/projects/${pk}/webhooks/${endpointId}/deliveries`, {
    key: dev.dat,
  })).body.deliveries as { type: string; state: string }[];
  assert.equal(log.find((d) => d.type === "customer.created")?.state, "delivered");
  assert.ok(rx.ids.length > before);
});

Deno.test("[e2e] two instances on one store send each delivery once", async () => {
  await using kv = await Deno.openKv(":memory:");
  const clock = new TestClock(new Date().toISOString());
  await using one = await testApp({ kv, clock, config });
  await using two = await testApp({ kv, clock, config });
  await using rx = receiver({ delayMs: 50 });
  const dev = await developer(one);
  const { pk } = await project(one, dev.dat);
  const endpointId = await endpoint(one, { dat: dev.dat, pk: pk, url: rx.url });
  await pings(one, { dat: dev.dat, pk, endpointId, n: 8 });
  for (let i = 0; i < 20 && new Set(rx.ids).size < 8; i++) {
    await Promise.all([runWebhooks(one.services), runWebhooks(two.services)]);
  }
  assert.equal(new Set(rx.ids).size, 8);
  assert.equal(rx.ids.length, 8, "none twice");
});

Deno.test("[e2e] two instances on one store keep a failing endpoint's back-off: one attempt per step", async () => {
  await using kv = await Deno.openKv(":memory:");
  const clock = new TestClock(new Date().toISOString());
  await using one = await testApp({ kv, clock, config });
  await using two = await testApp({ kv, clock, config });
  await using rx = receiver({ answer: () => 500, delayMs: 20 });
  const dev = await developer(one);
  const { pk } = await project(one, dev.dat);
  const endpointId = await endpoint(one, { dat: dev.dat, pk, url: rx.url });
  await pings(one, { dat: dev.dat, pk, endpointId, n: 20 });
  const both = () => Promise.all([runWebhooks(one.services), runWebhooks(two.services)]);
  for (let i = 0; i < 5; i++) await both();
  assert.equal(rx.ids.length, 2, "the second failure in a row pauses the endpoint for both");
  for (const step of BACKOFF_MS.slice(0, 3)) {
    clock.advance(step);
    for (let i = 0; i < 5; i++) await both();
  }
  assert.equal(rx.ids.length, 5, "one attempt per back-off step");
});

/**
 * A receiver that is down, worked on by instance one, pass after pass and back-off step after
 * step; with `interleave`, instance two runs a whole pass every time one gives up the endpoint's
 * lease (the moment two instances on one store can meet by chance). Answers the attempts made by
 * the end of each phase, and how many passes two ran.
 */
async function downReceiverPhases(interleave: boolean) {
  await using kv = await Deno.openKv(":memory:");
  const clock = new TestClock(new Date().toISOString());
  let two: Awaited<ReturnType<typeof testApp>> | null = null;
  let twoRan = 0;
  // (two's own store is not this proxy: its leases given up run nothing)
  const leaseGone = async <T>(res: T) => {
    if (interleave && two) (twoRan++, await runWebhooks(two.services));
    return res;
  };
  const isLease = (key: unknown) => (key as Deno.KvKey)[0] === "webhook_lease";
  // instance one's store: a lease given up, by a delete or in an atomic operation, runs `leaseGone`
  const oneKv = proxyKv(kv, (prop, method) =>
    prop === "delete"
      ? async (key: unknown) => {
        const res = await method(key);
        return isLease(key) ? leaseGone(res) : res;
      }
      : prop === "atomic"
      ? () => {
        const op = method() as Deno.AtomicOperation;
        let dropsLease = false;
        const wrapped: Deno.AtomicOperation = new Proxy(op, {
          get(target, p) {
            const v = Reflect.get(target, p);
            if (typeof v !== "function") return v;
            if (p === "commit") {
              return async () => {
                const res = await target.commit();
                return dropsLease && res.ok ? leaseGone(res) : res;
              };
            }
            return (...a: unknown[]) => {
              if (p === "delete" && isLease(a[0])) dropsLease = true;
              const out = v.apply(target, a);
              return out === target ? wrapped : out; // chained calls stay on the proxy
            };
          },
        });
        return wrapped;
      }
      : undefined);
  await using one = await testApp({ kv: oneKv, clock, config });
  await using twoApp = await testApp({ kv, clock, config });
  two = twoApp;
  await using rx = receiver({ answer: () => 500 });
  const dev = await developer(one);
  const { pk } = await project(one, dev.dat);
  const endpointId = await endpoint(one, { dat: dev.dat, pk, url: rx.url });
  await pings(one, { dat: dev.dat, pk, endpointId, n: 8 });
  const attempts: number[] = [];
  for (const step of [0, ...BACKOFF_MS.slice(0, 3)]) {
    clock.advance(step);
    for (let i = 0; i < 3; i++) await runWebhooks(one.services);
    attempts.push(rx.ids.length);
  }
  return { attempts, twoRan };
}

Deno.test("[e2e] another instance's pass between an attempt that failed and the pause it sets finds the pause", async () => {
  const alone = await downReceiverPhases(false);
  const met = await downReceiverPhases(true);
  assert.ok(met.twoRan >= 4, `instance two ran in every phase (${met.twoRan})`);
  assert.deepEqual(met.attempts, alone.attempts, "the same attempts as one instance makes");
  assert.deepEqual(alone.attempts, [2, 3, 4, 5], "one attempt per back-off step after the pause");
});

Deno.test("[e2e] one failed delivery delays no other: the next event goes on the next pass, the failed one after its 5 s", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  let n = 0;
  await using rx = receiver({ answer: () => (++n === 1 ? 500 : 200) });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat);
  await endpoint(app, { dat: dev.dat, pk, url: rx.url });
  await app.call("POST", "/api/customers", { key: sk, body: { id: "first" } });
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 1, attempted: 1 });
  await app.call("POST", "/api/customers", { key: sk, body: { id: "second" } });
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 1, attempted: 1 });
  assert.equal(rx.ids.length, 2, "the second event went out at once");
  app.clock.advance(BACKOFF_MS[0]!);
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 0, attempted: 1 });
  assert.deepEqual([rx.ids[2], new Set(rx.ids).size], [rx.ids[0], 2], "the first, retried");
});

/** Every delivery record of an endpoint, read from the store (its API is gone with it). */
async function deliveriesIn(app: Awaited<ReturnType<typeof testApp>>, pk: string, id: string) {
  const out: Delivery[] = [];
  for await (const e of app.kv.list<Delivery>({ prefix: outboxKeys.listDeliveries(pk, id) })) {
    out.push(e.value);
  }
  return out;
}

/** The endpoint's queue entries left in the store. */
async function queueOf(app: Awaited<ReturnType<typeof testApp>>, pk: string, id: string) {
  const left: Deno.KvKey[] = [];
  for await (const e of app.kv.list({ prefix: outboxKeys.queue(pk, id) })) left.push(e.key);
  return left;
}

Deno.test("[e2e] a deleted endpoint's queued deliveries end unsent, and nothing of them stays queued", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  await using rx = receiver({ answer: () => 503 });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const endpointId = await endpoint(app, { dat: dev.dat, pk, url: rx.url });
  await pings(app, { dat: dev.dat, pk, endpointId, n: 3 });
  await runWebhooks(app.services);
  assert.equal(rx.ids.length, 1, "the first attempt failed; the endpoint waits out its back-off");
  const del = await app.call("DELETE", `/v1/projects/${pk}/webhooks/${endpointId}`, {
    key: dev.dat,
  });
  assert.equal(del.status < 300, true, del.text);
  for (let i = 0; i < 3; i++) {
    app.clock.advance(BACKOFF_MS.at(-1)!);
    await runWebhooks(app.services);
  }
  assert.equal(rx.ids.length, 1, "nothing is sent to a deleted endpoint");
  assert.deepEqual(await queueOf(app, pk, endpointId), []);
  const ds = await deliveriesIn(app, pk, endpointId);
  assert.equal(ds.length, 3);
  for (const d of ds) {
    assert.equal(d.state, "failed");
    assert.equal(d.nextAt, null);
    assert.equal(d.attempts.at(-1)!.error, "endpoint deleted");
  }
  const gone = await app.call("GET", `/v1/projects/${pk}/webhooks/${endpointId}/deliveries`, {
    key: dev.dat,
  });
  assert.equal(gone.status, 404);
});

Deno.test("[e2e] an endpoint disabled after failing for 3 days ends its other queued deliveries; each can be retried once it is enabled", async () => {
  await using app = await testApp({ clock: new TestClock(new Date().toISOString()), config });
  let down = true;
  await using rx = receiver({ answer: () => (down ? 500 : 200) });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const endpointId = await endpoint(app, { dat: dev.dat, pk, url: rx.url });
  await pings(app, { dat: dev.dat, pk, endpointId, n: 3 });
  const listed = async () =>
    (await app.call("GET", `/v1/projects/${pk}/webhooks/${endpointId}/deliveries`, {
      key: dev.dat,
    })).body.deliveries as {
      id: string;
      state: string;
      attempts: { status: number | null; error: string | null }[];
    }[];
  await failUntilDisabled(app, { pk, dat: dev.dat });
  const sent = rx.ids.length;
  app.clock.advance(BACKOFF_MS.at(-1)!);
  await runWebhooks(app.services);
  assert.equal(rx.ids.length, sent, "nothing is sent to a disabled endpoint");
  assert.deepEqual(await queueOf(app, pk, endpointId), []);
  const log = await listed();
  assert.equal(log.length, 3);
  assert.ok(log.every((d) => d.state === "failed"), JSON.stringify(log));
  const ended = log.filter((d) => d.attempts.at(-1)!.error === "endpoint disabled");
  assert.equal(ended.length, 2, "the two behind the one that failed for good end unsent");
  for (const d of ended) assert.equal(d.attempts.at(-1)!.status, null);

  down = false;
  const on = await app.call("POST", `/v1/projects/${pk}/webhooks/${endpointId}/enable`, {
    key: dev.dat,
  });
  assert.equal(on.status, 200, on.text);
  const retry = await app.call(
    "POST",
    `/v1/projects/${pk}/webhooks/${endpointId}/deliveries/${ended[0]!.id}/retry`,
    { key: dev.dat },
  );
  assert.equal(retry.status, 202, retry.text);
  await runWebhooks(app.services);
  assert.equal(rx.ids.at(-1), ended[0]!.id, "the retry carries the delivery's own webhook-id");
  assert.equal((await listed()).find((d) => d.id === ended[0]!.id)!.state, "delivered");
});
