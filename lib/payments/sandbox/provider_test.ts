/**
 * A process that stops at any point of a sandbox flow (kill -9: every commit after some point
 * never happens) loses no event and applies none twice, once the next process's clock runs:
 * each event is kept in the commit that makes what it tells of.
 */
import assert from "node:assert/strict";
import { SandboxProvider } from "@/lib/payments/sandbox/provider.ts";

const ACCT = { accountId: "acct_test", mode: "test" as const };
const T0 = Date.parse("2026-12-01T00:00:00Z");

/**
 * `kv` as a process sees it that stops right after its `commits`-th write lands: every KV call
 * after that throws (an atomic operation's chained calls stay on the wrapper).
 */
function stoppingKv(kv: Deno.Kv, commits: number) {
  const s = { left: commits, stopped: commits === 0 };
  const alive = () => {
    if (s.stopped) throw new Error("the process has stopped");
  };
  const landed = () => {
    if (--s.left === 0) s.stopped = true;
  };
  const wrapOp = (op: Deno.AtomicOperation): Deno.AtomicOperation => {
    const proxy: Deno.AtomicOperation = new Proxy(op, {
      get(target, p) {
        if (p === "commit") {
          return async () => {
            alive();
            const r = await target.commit();
            landed();
            return r;
          };
        }
        const v = Reflect.get(target, p) as (...a: unknown[]) => unknown;
        return (...a: unknown[]) => (v.apply(target, a), proxy);
      },
    });
    return proxy;
  };
  const wrapped = new Proxy(kv, {
    get(target, p) {
      const v = Reflect.get(target, p);
      if (typeof v !== "function") return v;
      if (p === "atomic") return () => (alive(), wrapOp(target.atomic()));
      if (p === "set" || p === "delete") {
        return async (...a: unknown[]) => {
          alive();
          const r = await (v as (...x: unknown[]) => Promise<unknown>).apply(target, a);
          landed();
          return r;
        };
      }
      return (...a: unknown[]) => (alive(), (v as (...x: unknown[]) => unknown).apply(target, a));
    },
  });
  return { kv: wrapped, stopped: () => s.stopped };
}

/** The webhook route as the sandbox sees it: each event id applied once, duplicates acknowledged. */
function route() {
  const applied = new Map<string, string>();
  const objects = new Map<string, Record<string, unknown>>();
  const hook = { onEvent: null as ((type: string) => Promise<void>) | null };
  return {
    applied,
    objects,
    hook,
    types: () => [...applied.values()].sort(),
    deliver: (alive: () => boolean) => (payload: string) => {
      if (!alive()) return Promise.reject(new Error("the process has stopped"));
      const e = JSON.parse(payload) as {
        id: string;
        type: string;
        data: { object: Record<string, unknown> };
      };
      if (applied.has(e.id)) return Promise.resolve();
      applied.set(e.id, e.type);
      objects.set(e.id, e.data.object);
      return hook.onEvent ? hook.onEvent(e.type) : Promise.resolve();
    },
  };
}

/** A store with a monthly price, and a provider on it that doesn't stop. */
async function setUp() {
  const kv = await Deno.openKv(":memory:");
  const clock = { now: T0 };
  const r = route();
  const provider = () => {
    const p = new SandboxProvider(kv, () => clock.now, "whsec_test");
    p.attach(r.deliver(() => true));
    return p;
  };
  const p = provider();
  const product = await p.createProduct(ACCT, {
    name: "Pro",
    description: null,
    images: [],
    metadata: {},
    idempotencyKey: "prod",
  });
  const price = (interval: "month" | null, unitAmount = 1000) =>
    p.createPrice(ACCT, {
      product,
      unitAmount,
      currency: "usd",
      interval,
      metadata: {},
      idempotencyKey: `price_${interval}_${unitAmount}`,
    });
  const checkout = async (mode: "subscription" | "payment") =>
    (await p.createCheckoutSession(ACCT, {
      mode,
      lineItems: [{ price: await price(mode === "payment" ? null : "month"), quantity: 1 }],
      successUrl: "https://a.example/ok",
      cancelUrl: "https://a.example/no",
      metadata: {},
      idempotencyKey: `checkout_${mode}`,
      origin: "http://localhost",
    })).id;
  /** A provider on the same store whose process stops after `commits` writes. */
  const stopping = (commits: number) => {
    const s = stoppingKv(kv, commits);
    const sp = new SandboxProvider(s.kv, () => clock.now, "whsec_test");
    sp.attach(r.deliver(() => !s.stopped()));
    return sp;
  };
  /** The next process: its clock runs for a minute (the outbox sends again what is kept). */
  const restart = async () => {
    const next = provider();
    for (let i = 0; i < 8; i++) {
      clock.now += 8_000;
      await next.tick();
    }
    return next;
  };
  const kept = async () => {
    let n = 0;
    for await (const _ of kv.list({ prefix: ["sandbox_outbox"] })) n++;
    return n;
  };
  return { kv, clock, route: r, provider: p, checkout, price, stopping, restart, kept };
}

const countOf = (types: string[], type: string) => types.filter((t) => t === type).length;

Deno.test("a process stopped anywhere in a checkout's completion: paid with every event once, or not paid with none", async () => {
  for (let commits = 0; commits <= 6; commits++) {
    const t = await setUp();
    const id = await t.checkout("subscription");
    const before = t.route.types().length;
    await t.stopping(commits).completeCheckout(id).catch(() => null);
    const next = await t.restart();
    const session = await next.session(id);
    const types = t.route.types().slice(before);
    if (session.status === "open") {
      assert.deepEqual(types, [], `stopped after ${commits}: not paid, nothing sent`);
    } else {
      assert.equal(session.status, "complete");
      assert.deepEqual(
        t.route.types().filter((x) => x !== "checkout.session.expired"),
        ["checkout.session.completed", "customer.subscription.created", "invoice.paid"],
        `stopped after ${commits} writes: each event once`,
      );
      const sub = await next.retrieveSubscription(ACCT, session.subscription as string);
      assert.equal(sub.status, "active");
    }
    assert.equal(await t.kept(), 0, "nothing left to send");
    t.kv.close();
  }
});

Deno.test("a process stopped anywhere in a renewal: renewed once, each of its events once", async () => {
  for (let commits = 0; commits <= 8; commits++) {
    const t = await setUp();
    const id = await t.checkout("subscription");
    const done = await t.provider.completeCheckout(id);
    const subId = done!.subscription as string;
    const end = (await t.provider.retrieveSubscription(ACCT, subId)).items.data[0]!
      .current_period_end!;
    const before = t.route.applied.size;
    t.clock.now = end * 1000 + 1000;
    await t.stopping(commits).tick().catch(() => null);
    const next = await t.restart();
    const types = [...t.route.applied.values()].slice(before);
    assert.equal(countOf(types, "invoice.created"), 1, `stopped after ${commits}: drafted once`);
    assert.equal(countOf(types, "invoice.paid"), 1, `stopped after ${commits}: charged once`);
    assert.equal(countOf(types, "customer.subscription.updated"), 1);
    const sub = await next.retrieveSubscription(ACCT, subId);
    assert.equal(sub.items.data[0]!.current_period_start, end, "one period on, not two");
    assert.equal(await t.kept(), 0, "nothing left to send");
    t.kv.close();
  }
});

Deno.test("a process stopped anywhere in a refund: a retry with the same key refunds once, its event once", async () => {
  for (let commits = 0; commits <= 4; commits++) {
    const t = await setUp();
    const id = await t.checkout("payment");
    await t.provider.completeCheckout(id);
    const before = t.route.applied.size;
    const refund = { sessionId: id, amount: 400, metadata: {}, idempotencyKey: "r1" };
    const first = await t.stopping(commits).refundPayment(ACCT, refund).catch(() => null);
    const next = await t.restart();
    const again = await next.refundPayment(ACCT, refund); // the app retries the same refund
    if (first) assert.equal(again.id, first.id, "the same refund");
    const types = [...t.route.applied.values()].slice(before);
    assert.deepEqual(types, ["charge.refunded"], `stopped after ${commits}: refunded once`);
    const charge = t.route.objects.get([...t.route.applied.keys()].at(-1)!)!;
    assert.equal(charge.amount_refunded, 400, "400 refunded in all, not 800");
    assert.equal(await t.kept(), 0, "nothing left to send");
    t.kv.close();
  }
});

Deno.test("two changes of one subscription at once both apply: cancel at period end and a switch", async () => {
  const t = await setUp();
  const done = await t.provider.completeCheckout(await t.checkout("subscription"));
  const id = done!.subscription as string;
  const bigger = await t.price("month", 3000);
  await Promise.all([
    t.provider.updateSubscription(ACCT, id, { cancelAtPeriodEnd: true }),
    t.provider.updateSubscription(ACCT, id, { price: bigger }),
  ]);
  const sub = await t.provider.retrieveSubscription(ACCT, id);
  assert.equal(sub.cancel_at_period_end, true, "the cancel is kept");
  assert.equal(sub.items.data[0]!.price.id, bigger, "the switch is kept");
  t.kv.close();
});

Deno.test("a cancel made while the clock renews is not overwritten by the renewal", async () => {
  const t = await setUp();
  const done = await t.provider.completeCheckout(await t.checkout("subscription"));
  const id = done!.subscription as string;
  const end = (await t.provider.retrieveSubscription(ACCT, id)).items.data[0]!.current_period_end!;
  t.clock.now = end * 1000 + 1000;
  // the developer's app cancels at period end while the renewal's draft invoice is delivered
  t.route.hook.onEvent = async (type) => {
    if (type !== "invoice.created") return;
    t.route.hook.onEvent = null;
    await t.provider.updateSubscription(ACCT, id, { cancelAtPeriodEnd: true });
  };
  await t.provider.tick();
  await t.provider.tick();
  const sub = await t.provider.retrieveSubscription(ACCT, id);
  assert.equal(sub.status, "canceled", "the cancel stands: the subscription ended at period end");
  const types = [...t.route.applied.values()];
  assert.equal(types.at(-1), "customer.subscription.deleted");
  assert.equal(countOf(types, "invoice.paid"), 1, "no renewal charged (only the first payment)");
  t.kv.close();
});

Deno.test("calls with one idempotency key at once make one object, as Stripe's keys do", async () => {
  const t = await setUp();
  const price = await t.price("month");
  const request = {
    mode: "subscription" as const,
    lineItems: [{ price, quantity: 1 }],
    successUrl: "https://a.example/ok",
    cancelUrl: "https://a.example/no",
    metadata: {},
    idempotencyKey: "same_key",
    origin: "http://localhost",
  };
  const sessions = await Promise.all(
    Array.from({ length: 5 }, () => t.provider.createCheckoutSession(ACCT, request)),
  );
  assert.equal(new Set(sessions.map((x) => x.id)).size, 1, "one session");
  const customers = await Promise.all(
    Array.from({ length: 5 }, () =>
      t.provider.createCustomer(ACCT, {
        email: "a@example.com",
        name: null,
        metadata: {},
        idempotencyKey: "cus_key",
      })),
  );
  assert.equal(new Set(customers).size, 1, "one customer");
  const stored = async (kind: string) => {
    let n = 0;
    for await (const _ of t.kv.list({ prefix: ["sandbox", kind] })) n++;
    return n;
  };
  assert.equal(await stored("checkout"), 1, "one session stored");
  assert.equal(await stored("customer"), 1);
  let due = 0;
  for await (const _ of t.kv.list({ prefix: ["sandbox_due", "checkout"] })) due++;
  assert.equal(due, 1, "one expiry for the clock");
  t.kv.close();
});
