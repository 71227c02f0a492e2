/** The hot path answers exactly like the full app for the cases it takes, and hands over the rest. */
import assert from "node:assert/strict";
import { developer, faultyKv, ORIGIN, project, testApp } from "@/tests/helpers.ts";
import { webhookReceiver } from "@/tests/webhook_receiver.ts";
import { createHotPath } from "@/lib/http/hot_path.ts";
import { API_HEADERS } from "@/lib/http/security.ts";
import { runWebhooks } from "@/lib/outbound/deliver.ts";

/**
 * The app served over a real connection with the hot path in front, as the server runs it;
 * `how` notes, per request, whether the hot path answered ("hot") or handed it over ("full").
 */
function serveHotFirst(app: Awaited<ReturnType<typeof testApp>>) {
  const hot = createHotPath(app.services, API_HEADERS);
  const how: string[] = [];
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (r) => {
      const res = await hot(r);
      how.push(res instanceof Response ? "hot" : "full");
      return res instanceof Response ? res : app.hono.fetch(res ?? r);
    },
  );
  return {
    how,
    addr: server.addr,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

Deno.test("hot path and full path give the same answers; unusual requests fall through", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 3 }] });
  const hot = createHotPath(app.services, API_HEADERS);
  const req = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Request(ORIGIN + path, {
      method,
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "hp", ...headers },
      ...(body !== undefined ? { body } : {}),
    });

  // cold caches: nothing is taken
  assert.equal(await hot(req("GET", "/api/usage")), null);
  await app.hono.fetch(req("POST", "/api/data")); // the full path creates the customer and warms caches

  const viaHot = await hot(req("GET", "/api/usage"));
  assert.ok(viaHot instanceof Response, "a cached read is answered by the hot path");
  const viaFull = await app.hono.fetch(req("GET", "/api/usage"));
  assert.equal(viaHot.status, viaFull.status);
  // byte for byte: the hot path writes the usage JSON from a template
  assert.equal(await viaHot.text(), await viaFull.text());
  assert.equal(viaHot.headers.get("content-type"), "application/json");
  assert.equal(viaHot.headers.get("x-content-type-options"), "nosniff");
  assert.match(viaHot.headers.get("x-request-id")!, /^req_/);

  const tracked = await hot(
    req("POST", "/api/data", { "Content-Type": "application/json" }, '{"quantity":2}'),
  );
  assert.ok(tracked instanceof Response);
  assert.deepEqual((await tracked.json()).usage.count, 3);
  const over = await hot(req("POST", "/api/data"));
  const overFull = await app.hono.fetch(req("POST", "/api/data"));
  assert.ok(over instanceof Response);
  const [ta, tb] = [await over.text(), await overFull.text()];
  const [a, b] = [JSON.parse(ta), JSON.parse(tb)];
  // byte for byte (the hot path writes the refusal from a template), but for the request id
  assert.equal(ta.replace(a.error.requestId, ""), tb.replace(b.error.requestId, ""));
  assert.equal(over.status, 429);
  assert.equal(overFull.status, 429);
  // the same body whole (the hot path refuses without throwing), but for the request id
  const sameBody = (x: { error: { requestId: string } }) => ({
    ...x,
    error: { ...x.error, requestId: "" },
  });
  assert.deepEqual(sameBody(a), sameBody(b));
  assert.equal(a.error.code, "tier_limit_reached");
  assert.match(a.error.requestId, /^req_/);

  // bad input is handed over with its body, and the full app answers it
  const bad = await hot(
    req("POST", "/api/data", { "Content-Type": "application/json" }, '{"quantity":-1}'),
  );
  assert.ok(bad instanceof Request);
  const badRes = await app.fetch(
    req("POST", "/api/data", { "Content-Type": "application/json" }, '{"quantity":-1}'),
  );
  assert.equal(badRes.status, 422);
  assert.equal((await badRes.json()).error.code, "validation_failed");
  for (
    const r of [
      req("POST", "/api/data", { "Idempotency-Key": "not a key" }),
      req("GET", "/api/usage", { Authorization: `Bearer ${pk}` }),
      req("GET", "/api/usage", { "X-User-Id": "hp hp" }),
      req("POST", "/api/data", { "X-User-Id": "h".repeat(129) }),
      req("GET", "/api/usage", { Authorization: "Bearer sk_test_short" }),
      req("GET", "/api/usage", { Authorization: `Bearer ${sk}x` }),
      req("GET", "/api/tiers"),
    ]
  ) {
    assert.equal(await hot(r), null, r.url);
  }
  // a customer never seen reads as new, as the full app answers it (and is not created)
  const newcomer = await hot(req("GET", "/api/usage", { "X-User-Id": "someone_new" }));
  assert.ok(newcomer instanceof Response);
  assert.equal(
    await newcomer.text(),
    await (await app.hono.fetch(req("GET", "/api/usage", { "X-User-Id": "someone_new" }))).text(),
  );
  // the key last seen is remembered with its hash: a bad key between two good calls is not
  // answered, and neither stops the good key being answered after it
  const calls: [auth: string, answered: boolean][] = [
    [`Bearer ${sk}`, true],
    [`Bearer ${sk}x`, false],
    [`Bearer ${sk}`, true],
  ];
  for (const [auth, answered] of calls) {
    const r = await hot(req("GET", "/api/usage", { Authorization: auth }));
    assert.equal(r instanceof Response, answered, auth);
    if (r instanceof Response) await r.body?.cancel();
  }
  // a GET ignores Idempotency-Key, as the full app does: the hot path answers it the same
  const idemGet = await hot(req("GET", "/api/usage", { "Idempotency-Key": "k2" }));
  assert.ok(idemGet instanceof Response);
  assert.equal(
    await idemGet.text(),
    await (await app.hono.fetch(req("GET", "/api/usage", { "Idempotency-Key": "k2" }))).text(),
  );
  // CORS for browsers
  const cors = await hot(req("GET", "/api/usage", { Origin: "https://app.example" }));
  assert.ok(cors instanceof Response);
  assert.equal(cors.headers.get("access-control-allow-origin"), "*");
  await cors.body?.cancel();
});

Deno.test("a hot usage read follows the customer's plan, the tier's limit and the period as they change", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 10 }, { name: "team", price: 0, limit: 50 }],
  });
  const hot = createHotPath(app.services, API_HEADERS);
  const usageReq = () =>
    new Request(ORIGIN + "/api/usage", {
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "memo" },
    });
  /**
   * The hot path's answer first when it takes the read (from the answer it made last time, when
   * nothing it was made from moved), then the full app's (which also warms the caches), then the
   * hot path's again, which must take the read: all the same bytes.
   */
  const read = async () => {
    const first = await hot(usageReq());
    const full = await (await app.hono.fetch(usageReq())).text();
    if (first instanceof Response) assert.equal(await first.text(), full, "a stale answer");
    else assert.equal(first, null);
    for (let i = 0; i < 2; i++) {
      const viaHot = await hot(usageReq());
      assert.ok(viaHot instanceof Response, "the hot path takes the read");
      assert.equal(await viaHot.text(), full);
    }
    return { usage: JSON.parse(full).usage };
  };
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "memo" } });
  let r = await read();
  assert.deepEqual([r.usage.count, r.usage.limit, r.usage.plan], [1, 10, "free"]);

  // the month ends: the next read counts in the next period (same customer and project records)
  const end = r.usage.periodEnd;
  app.clock.set(end);
  app.clock.advance(1);
  r = await read();
  assert.deepEqual([r.usage.periodStart, r.usage.count], [end, 0]);

  // the customer moves to another plan (a new customer record)
  await app.call("PATCH", "/api/customers/memo", { key: sk, body: { plan: "team" } });
  r = await read();
  assert.deepEqual([r.usage.limit, r.usage.plan], [50, "team"]);

  // the tier's limit is edited (a new project record)
  const edit = await app.call("PATCH", `/v1/projects/${pk}/tiers/team`, {
    key: dev.dat,
    body: { limit: 70 },
  });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  r = await read();
  assert.equal(r.usage.limit, 70);

  // the developer resets the customer's usage: the count starts again from zero
  for (let i = 0; i < 2; i++) {
    await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "memo" } });
  }
  assert.equal((await read()).usage.count, 2);
  const reset = await app.call("POST", `/v1/projects/${pk}/customers/memo/usage/reset`, {
    key: dev.dat,
  });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  r = await read();
  assert.equal(r.usage.count, 0);
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "memo" } });
  assert.equal((await read()).usage.count, 1);
});

Deno.test("over a real connection the hot path reads headers natively and answers as the full app does", async () => {
  await using app = await testApp({ config: { maxBodyBytes: 1024 } });
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 100 }] });
  const hot = createHotPath(app.services, API_HEADERS);
  let byHot = 0;
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (r) => {
      const res = await hot(r);
      if (res instanceof Response) {
        byHot++;
        return res;
      }
      return app.hono.fetch(res ?? r);
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const headers = (extra: Record<string, string> = {}) => ({
    Authorization: `Bearer ${sk}`,
    "X-User-Id": "wire",
    ...extra,
  });
  /** One call over the wire: its answer, and whether the hot path gave it. */
  const wire = async (
    method: string,
    path: string,
    extra?: Record<string, string>,
    body?: string,
  ) => {
    const before = byHot;
    const res = await fetch(base + path, { method, headers: headers(extra), body: body ?? null });
    return { res, text: await res.text(), hot: byHot > before };
  };
  const full = async (path: string, extra?: Record<string, string>) =>
    await (await app.hono.fetch(new Request(ORIGIN + path, { headers: headers(extra) }))).text();

  assert.equal((await wire("POST", "/api/data")).hot, false, "cold caches: the full app answers");
  /** A JSON `POST /api/data` over the wire that the hot path must take: the count it answers. */
  const countedByHot = async (body: string) => {
    const r = await wire("POST", "/api/data", { "Content-Type": "application/json" }, body);
    assert.ok(r.hot, body);
    return JSON.parse(r.text).usage.count;
  };
  assert.equal(await countedByHot('{"quantity":2}'), 3);

  const read = await wire("GET", "/api/usage", {
    "X-Request-Id": "trace-42",
    Origin: "https://app.example",
  });
  assert.ok(read.hot);
  assert.equal(read.text, await full("/api/usage"));
  assert.equal(read.res.headers.get("x-request-id"), "trace-42", "the caller's id is echoed");
  assert.equal(read.res.headers.get("access-control-allow-origin"), "*");
  assert.equal(read.res.headers.get("x-content-type-options"), "nosniff");
  const plain = await wire("GET", "/api/usage");
  assert.ok(plain.hot);
  assert.equal(plain.res.headers.get("access-control-allow-origin"), null, "no Origin, no CORS");
  assert.match(plain.res.headers.get("x-request-id")!, /^req_/);

  // a body taken natively drops a byte order mark, as text() does for the full app
  assert.equal(await countedByHot('\ufeff{"quantity":1}'), 4);
  const bomFull = await app.hono.fetch(
    new Request(ORIGIN + "/api/data", {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: '\ufeff{"quantity":1}',
    }),
  );
  assert.equal((await bomFull.json()).usage.count, 5, "the full app takes it alike");

  // a declared body over the limit: refused by the hot path from its Content-Length
  const big = await wire(
    "POST",
    "/api/data",
    { "Content-Type": "application/json" },
    " ".repeat(2000),
  );
  assert.ok(big.hot);
  assert.equal(big.res.status, 413);
  assert.equal(JSON.parse(big.text).error.code, "payload_too_large");

  // what the hot path hands over, read natively too
  const over = [
    await wire("POST", "/api/data", { "X-Clerk-Token": "t" }),
    await wire("POST", "/api/data", { "X-Publishable-Key": "pk_test_x" }),
    await wire("POST", "/api/data", { "Content-Type": "text/plain" }, '{"quantity":1}'),
    await wire("GET", "/api/usage", { "X-User-Id": "wire, other" }),
  ];
  for (const o of over) assert.equal(o.hot, false, o.text);
  assert.equal(over[3]!.res.status, 400, "a joined (repeated) X-User-Id is not a customer id");
  // an Idempotency-Key (this server's SDK sends one with every call) is honoured here too
  const first = await wire("POST", "/api/data", { "Idempotency-Key": "wire-1" });
  const again = await wire("POST", "/api/data", { "Idempotency-Key": "wire-1" });
  assert.deepEqual([first.hot, again.hot], [true, true]);
  assert.equal(first.res.status, 200);
  assert.equal(first.res.headers.get("idempotent-replayed"), null);
  assert.equal(again.res.headers.get("idempotent-replayed"), "true");
  assert.equal(again.text, first.text, "the first answer, counted once");
  const replayFull = await app.hono.fetch(
    new Request(ORIGIN + "/api/data", {
      method: "POST",
      headers: headers({ "Idempotency-Key": "wire-1" }),
    }),
  );
  assert.equal(await replayFull.text(), first.text, "the full app replays the same bytes");
  assert.equal(replayFull.headers.get("idempotent-replayed"), "true");
  assert.equal(JSON.parse((await wire("GET", "/api/usage")).text).usage.count, 6);
  // the same key with another body: 409 from both paths, alike but for the request id
  const body = '{"quantity":2}';
  const json = { "Content-Type": "application/json", "Idempotency-Key": "wire-1" };
  const conflict = await wire("POST", "/api/data", json, body);
  const conflictFull = await app.hono.fetch(
    new Request(ORIGIN + "/api/data", { method: "POST", headers: headers(json), body }),
  );
  assert.ok(conflict.hot);
  assert.deepEqual([conflict.res.status, conflictFull.status], [409, 409]);
  const [ca, cb] = [JSON.parse(conflict.text), await conflictFull.json()];
  assert.equal(ca.error.code, "conflict");
  assert.deepEqual(
    { ...ca, error: { ...ca.error, requestId: "" } },
    { ...cb, error: { ...cb.error, requestId: "" } },
  );
  // a key the full path refuses is handed over (400 there)
  const badKey = await wire("POST", "/api/data", { "Idempotency-Key": "two words" });
  assert.equal(badKey.hot, false);
  assert.equal(badKey.res.status, 400);
  assert.equal(JSON.parse((await wire("GET", "/api/usage")).text).usage.count, 6, "nothing more");
});

Deno.test("over a real connection a call the held count refuses is answered synchronously, as the full app answers it", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 2 }] });
  const hot = createHotPath(app.services, API_HEADERS);
  const how: string[] = [];
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen: () => {} },
    async (r) => {
      const out = hot(r);
      how.push(out instanceof Response ? "sync" : out === null ? "full" : "promise");
      const res = await out;
      return res instanceof Response ? res : app.hono.fetch(res ?? r);
    },
  );
  const post = async (body?: string) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/data`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${sk}`,
        "X-User-Id": "sync",
        ...(body ? { "Content-Type": "application/json" } : {}),
      },
      body: body ?? null,
    });
    return { status: res.status, body: await res.json() };
  };
  assert.equal((await post()).status, 200); // first sight: the full app
  assert.equal((await post('{"quantity":1}')).status, 200); // counted: after the commit
  const refused = [await post(), await post('{"quantity":1}')];
  assert.deepEqual(how, ["full", "promise", "sync", "sync"]);
  const full = await app.hono.fetch(
    new Request(ORIGIN + "/api/data", {
      method: "POST",
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "sync" },
    }),
  );
  const fullBody = await full.json();
  for (const r of refused) {
    assert.equal(r.status, 429);
    assert.equal(r.body.error.code, "tier_limit_reached");
    assert.deepEqual(
      { ...r.body, error: { ...r.body.error, requestId: "" } },
      { ...fullBody, error: { ...fullBody.error, requestId: "" } },
    );
  }
  // its headers too (a status other than 200 is built with every header at once), from a browser
  const browser = { Origin: "https://app.example", "X-Request-Id": "trace-429" };
  const viaWire = await fetch(`http://127.0.0.1:${server.addr.port}/api/data`, {
    method: "POST",
    headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "sync", ...browser },
  });
  await viaWire.body?.cancel();
  assert.equal(how.at(-1), "sync");
  const viaFull = await app.hono.fetch(
    new Request(ORIGIN + "/api/data", {
      method: "POST",
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "sync", ...browser },
    }),
  );
  await viaFull.body?.cancel();
  assert.equal(viaWire.status, 429);
  for (
    const h of [
      "content-type",
      "x-content-type-options",
      "x-request-id",
      "access-control-allow-origin",
      "access-control-expose-headers",
    ]
  ) {
    assert.equal(viaWire.headers.get(h), viaFull.headers.get(h), h);
    assert.notEqual(viaWire.headers.get(h), null, h);
  }
  assert.equal(viaWire.headers.get("x-request-id"), "trace-429");
  // nothing was counted by the refusals
  const usage = await app.hono.fetch(
    new Request(ORIGIN + "/api/usage", {
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "sync" },
    }),
  );
  assert.equal((await usage.json()).usage.count, 2);
});

/** One customer's record read. */
const customerRecord = (key: Deno.KvKey) => key[0] === "customers" && key.length === 3;

Deno.test("over a real connection the hot path reads a customer it has not cached yet (after a restart)", async () => {
  const flaky = await faultyKv();
  await using app = await testApp({ kv: flaky.kv });
  const dev = await developer(app);
  const { sk, pk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  await using server = serveHotFirst(app);
  const how = server.how;
  const post = async (user: string, extra: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/data`, {
      method: "POST",
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": user, ...extra },
    });
    return { status: res.status, body: await res.json(), how: how.at(-1) };
  };
  assert.equal((await post("warm")).how, "full"); // key and project cached by the full app
  const made = await app.call("POST", "/api/customers", { key: sk, body: { id: "known" } });
  assert.equal(made.status, 201);
  app.services.caches.customers.delete(pk, "known"); // as after a restart
  const first = await post("known", { "Idempotency-Key": "first-known" });
  assert.deepEqual([first.status, first.how, first.body.usage.count], [200, "hot", 1]);
  assert.ok(app.services.caches.customers.get(pk, "known"), "and cached for the next call");
  // an id the full app refuses: its 400
  const bad = await post("no spaces allowed");
  assert.deepEqual([bad.status, bad.how, bad.body.error.code], [400, "full", "invalid_request"]);
  // refusals, replays and counts as the full app gives them
  for (let i = 0; i < 4; i++) await post("known");
  app.services.caches.customers.delete(pk, "known");
  const refused = await post("known");
  assert.deepEqual([refused.status, refused.how, refused.body.error.code], [
    429,
    "hot",
    "tier_limit_reached",
  ]);
  app.services.caches.customers.delete(pk, "known");
  const replay = await post("known", { "Idempotency-Key": "first-known" });
  assert.deepEqual([replay.status, replay.how, replay.body], [200, "hot", first.body]);
  // a read that fails hands the call to the full app, which reads again (and answers any error)
  app.services.caches.customers.delete(pk, "known");
  flaky.failReads(customerRecord);
  const afterFailure = await post("known", { "Idempotency-Key": "first-known" });
  assert.deepEqual([afterFailure.status, afterFailure.how, afterFailure.body], [
    200,
    "full",
    first.body,
  ]);
  assert.equal(flaky.armed, 0, "the hot path's read was the one that failed");
  const usage = await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "known" } });
  assert.equal(usage.body.usage.count, 5);

  // reads: a customer not cached, then a count not held (reset), are read and answered here
  const read = async (user: string) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/usage`, {
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": user },
    });
    const text = await res.text();
    const full = await app.hono.fetch(
      new Request(ORIGIN + "/api/usage", {
        headers: { Authorization: `Bearer ${sk}`, "X-User-Id": user },
      }),
    );
    assert.equal(text, await full.text(), user);
    return { status: res.status, count: JSON.parse(text).usage.count, how: how.at(-1) };
  };
  app.services.caches.customers.delete(pk, "known");
  assert.deepEqual(await read("known"), { status: 200, count: 5, how: "hot" });
  const reset = await app.call("POST", `/v1/projects/${pk}/customers/known/usage/reset`, {
    key: dev.dat,
  });
  assert.equal(reset.status, 200);
  assert.deepEqual(await read("known"), { status: 200, count: 0, how: "hot" });
  // a customer never seen reads as new, here as there (nothing is created)
  assert.deepEqual(await read("ghost"), { status: 200, count: 0, how: "hot" });
  assert.equal(app.services.caches.customers.get(pk, "ghost"), undefined);
  const ghosts = await app.call("GET", `/v1/projects/${pk}/customers?q=ghost`, { key: dev.dat });
  assert.deepEqual(ghosts.body.customers, []);
  // and one whose read fails is the full app's to answer
  flaky.failReads(customerRecord);
  assert.deepEqual(await read("ghost"), { status: 200, count: 0, how: "full" });
  assert.equal(flaky.armed, 0);
  // a failed read goes to the full app too
  app.services.caches.customers.delete(pk, "known");
  flaky.failReads(customerRecord);
  assert.deepEqual(await read("known"), { status: 200, count: 0, how: "full" });
});

Deno.test("over a real connection the hot path creates a customer first seen on a tracking call, as the full app does", async () => {
  // one limit per phase: the second app refuses on the key's rate before anything is created
  for (const rateLimitPerKey of [0, 2]) {
    await using app = await testApp({ config: { webhookAllowPrivate: true, rateLimitPerKey } });
    await using rx = webhookReceiver();
    const dev = await developer(app);
    const { sk, pk } = await project(app, dev.dat, {
      tiers: [{ name: "free", price: 0, limit: 5 }],
    });
    const hook = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
      key: dev.dat,
      body: { url: rx.url, events: ["customer.created"] },
    });
    assert.equal(hook.status, 201);
    await using server = serveHotFirst(app);
    const how = server.how;
    const post = async (user: string, o: { body?: unknown; key?: string } = {}) => {
      const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/data`, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${sk}`,
          "X-User-Id": user,
          ...(o.body ? { "Content-Type": "application/json" } : {}),
          ...(o.key ? { "Idempotency-Key": o.key } : {}),
        },
        body: o.body ? JSON.stringify(o.body) : null,
      });
      return { status: res.status, body: await res.json(), how: how.at(-1) };
    };
    // through the developer API (the key's own rate limit may be spent)
    const exists = async (user: string) =>
      (await app.call("GET", `/v1/projects/${pk}/customers?q=${user}`, { key: dev.dat })).body
        .customers.some((c: { id: string }) => c.id === user);
    const created = async () => {
      for (let i = 0; i < 3; i++) await runWebhooks(app.services);
      return rx.got.map((g) => JSON.parse(g.body).data.object.id as string).sort();
    };
    assert.equal((await post("warm")).how, "full"); // key and project cached by the full app

    if (rateLimitPerKey) {
      // the key's second and last token this second
      assert.deepEqual((await post("first")).how, "hot");
      const limited = await post("blocked");
      assert.deepEqual([limited.status, limited.how, limited.body.error.code], [
        429,
        "hot",
        "rate_limited",
      ]);
      assert.equal(await exists("blocked"), false, "a call refused for its rate creates nothing");
      assert.deepEqual(await created(), ["first", "warm"]);
      continue;
    }
    const fresh = await post("fresh");
    assert.deepEqual([fresh.status, fresh.how, fresh.body.usage], [200, "hot", {
      ...fresh.body.usage,
      userId: "fresh",
      count: 1,
      limit: 5,
      plan: "free",
    }]);
    assert.deepEqual((await post("fresh")).body.usage.count, 2);
    assert.equal(await exists("fresh"), true);
    // a quantity the free tier refuses anyway: refused, as the full app refuses it, nothing made
    const big = await post("big", { body: { quantity: 6 } });
    assert.deepEqual([big.status, big.how, big.body.error.code], [
      429,
      "hot",
      "tier_limit_reached",
    ]);
    const viaFull = await app.call("POST", "/api/data", {
      key: sk,
      headers: { "X-User-Id": "big2" },
      body: { quantity: 6 },
    });
    assert.deepEqual(
      { ...big.body, error: { ...big.body.error, requestId: "" } },
      {
        ...viaFull.body,
        error: {
          ...viaFull.body.error,
          requestId: "",
          usage: { ...viaFull.body.error.usage, userId: "big" },
        },
        message: viaFull.body.message,
      },
    );
    assert.equal(await exists("big"), false);
    // with an Idempotency-Key: created, counted once, replayed
    const keyed = await post("keyed", { key: "keyed-1" });
    assert.deepEqual([keyed.status, keyed.how, keyed.body.usage.count], [200, "hot", 1]);
    const again = await post("keyed", { key: "keyed-1" });
    assert.deepEqual([again.how, again.body], ["hot", keyed.body]);
    // many first calls at once for one new customer: one customer, every call counted once
    const crowd = await Promise.all(Array.from({ length: 5 }, () => post("crowd")));
    assert.deepEqual(crowd.map((c) => [c.status, c.how]), Array(5).fill([200, "hot"]));
    assert.deepEqual(crowd.map((c) => c.body.usage.count).sort(), [1, 2, 3, 4, 5]);
    // one customer.created each, none for the refused ones
    assert.deepEqual(await created(), ["crowd", "fresh", "keyed", "warm"]);
    const dash = await app.call("GET", "/api/dashboard", { key: sk });
    assert.deepEqual([dash.body.customers, dash.body.usageThisPeriod], [4, 1 + 2 + 1 + 5]);
  }
});

Deno.test("over a real connection a tracking commit that fails is answered as the full app answers it, and counted nowhere", async () => {
  const flaky = await faultyKv();
  await using app = await testApp({ kv: flaky.kv });
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  await using server = serveHotFirst(app);
  const how = server.how;
  const post = async (extra: Record<string, string> = {}) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/data`, {
      method: "POST",
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "u1", ...extra },
    });
    return { status: res.status, headers: res.headers, text: await res.text(), how: how.at(-1) };
  };
  assert.equal((await post()).how, "full"); // key and project cached by the full app
  assert.equal(JSON.parse((await post()).text).usage.count, 2);

  flaky.failCommits(() => true, Infinity);
  for (const extra of [{}, { "Idempotency-Key": "retried-1" }]) {
    const failed = await post(extra);
    assert.deepEqual([failed.status, failed.how], [500, "hot"]);
    const body = JSON.parse(failed.text);
    const requestId = failed.headers.get("x-request-id");
    assert.ok(requestId, "an X-Request-Id as on every answer");
    assert.equal(body.error.requestId, requestId);
    assert.equal(failed.headers.get("content-type"), "application/json");
    assert.equal(failed.headers.get("x-content-type-options"), "nosniff");
    // the full app's answer to the same failure, but for its request id
    const full = await app.hono.fetch(
      new Request(ORIGIN + "/api/data", {
        method: "POST",
        headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "u1", ...extra },
      }),
    );
    assert.equal(full.status, 500);
    assert.equal(
      failed.text,
      (await full.text()).replaceAll(full.headers.get("x-request-id")!, requestId),
    );
    // logged with the id the caller was given, without the detail in the answer
    const logged = app.logs.lines.find((l) =>
      l.msg === "unhandled error" && l.fields?.requestId === requestId
    );
    assert.equal(logged?.fields?.path, "/api/data");
    assert.match(String(logged?.fields?.error), /the store failed for a moment/);
    assert.doesNotMatch(failed.text, /store failed/);
  }
  flaky.heal();
  // nothing was counted: the key's retry counts now, once
  const retried = await post({ "Idempotency-Key": "retried-1" });
  assert.deepEqual([retried.status, retried.how, JSON.parse(retried.text).usage.count], [
    200,
    "hot",
    3,
  ]);
  assert.equal(retried.headers.get("idempotent-replayed"), null);
  assert.equal(JSON.parse((await post({ "Idempotency-Key": "retried-1" })).text).usage.count, 3);
  assert.equal(JSON.parse((await post()).text).usage.count, 4);
});

Deno.test("over a real connection a call handed over after the hot path took its rate-limit tokens costs one token", async () => {
  const flaky = await faultyKv();
  await using app = await testApp({
    kv: flaky.kv,
    config: { rateLimitPerKey: 3, rateLimitPerCustomer: 2 },
  });
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  await using server = serveHotFirst(app);
  const how = server.how;
  const post = async (user: string) => {
    const res = await fetch(`http://127.0.0.1:${server.addr.port}/api/data`, {
      method: "POST",
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": user },
    });
    const body = await res.json();
    return [res.status, how.at(-1), body.usage?.count ?? body.error.code];
  };
  // the key's first token of three (the test clock stands still: none come back)
  assert.deepEqual(await post("warm"), [200, "full", 1]);
  // the hot path takes the key's and the customer's token, its read of the new customer fails,
  // and the full app, given the call, counts it without taking them again
  flaky.failReads(customerRecord);
  assert.deepEqual(await post("new"), [200, "full", 1]);
  assert.equal(flaky.armed, 0, "the hot path's read was the one that failed");
  // so the key has one token left, and the customer one
  assert.deepEqual(await post("new"), [200, "hot", 2]);
  assert.deepEqual(await post("new"), [429, "hot", "rate_limited"]);
  // a call the full app takes from the start is limited there as before
  const full = await app.hono.fetch(
    new Request(ORIGIN + "/api/data", {
      method: "POST",
      headers: { Authorization: `Bearer ${sk}`, "X-User-Id": "other" },
    }),
  );
  assert.equal(full.status, 429);
});
