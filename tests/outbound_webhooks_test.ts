/**
 * [e2e] Outbound webhooks: signed per Standard Webhooks (verified with npm:standardwebhooks),
 * retried with the same webhook-id, surviving a restart, refused for private targets.
 */
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { developer, project, testApp, TestClock } from "@/tests/helpers.ts";
import { runWebhooks } from "@/lib/outbound/deliver.ts";
import { inTurn, type Received, webhookReceiver } from "@/tests/webhook_receiver.ts";
import { verifyWebhook, WebhookVerificationError } from "@/sdk/src/index.ts";

const realClock = () => new TestClock(new Date().toISOString());

Deno.test("[e2e] a receiver answering 503 then 200: one success recorded, the retry carries the same webhook-id, both verify", async () => {
  await using app = await testApp({ clock: realClock(), config: { webhookAllowPrivate: true } });
  await using rx = webhookReceiver({ answer: inTurn([503]) });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat);
  const made = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: rx.url, events: ["customer.created", "customer.deleted"] },
  });
  assert.equal(made.status, 201, made.text);
  const secret: string = made.body.secret;
  assert.match(secret, /^whsec_/);
  // stored sealed, never in plaintext
  const raw = JSON.stringify((await app.kv.get(["projects", pk])).value);
  assert.ok(!raw.includes(secret.slice(6)), "the secret is not stored in plaintext");

  const created = await app.call("POST", "/api/customers", {
    key: sk,
    body: { id: "ann", email: "ann@example.com" },
  });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 1, attempted: 1 });
  assert.equal(rx.got.length, 1);
  // not due yet: nothing is sent
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 0, attempted: 0 });
  app.clock.advance(6000);
  assert.deepEqual(await runWebhooks(app.services), { fannedOut: 0, attempted: 1 });
  assert.equal(rx.got.length, 2);
  const [first, second] = rx.got as [Received, Received];
  assert.equal(first.headers["webhook-id"], second.headers["webhook-id"]);
  assert.equal(first.body, second.body);
  const wh = new Webhook(secret);
  for (const r of rx.got) {
    const payload = wh.verify(r.body, r.headers) as {
      type: string;
      data: { object: { id: string; email: string }; version: number };
    };
    assert.equal(payload.type, "customer.created");
    assert.equal(payload.data.object.id, "ann");
    assert.equal(payload.data.object.email, "ann@example.com");
    assert.ok(payload.data.version > 0);
  }
  assert.throws(() => new Webhook(secret).verify(first.body + " ", first.headers));
  // the SDK's helper agrees with the reference package
  const event = await verifyWebhook<{ id: string }>(secret, first.body, first.headers);
  assert.equal(event.type, "customer.created");
  assert.equal(event.data.object.id, "ann");
  await assert.rejects(
    () => verifyWebhook(secret, first.body.replace("ann", "bob"), first.headers),
    WebhookVerificationError,
  );
  await assert.rejects(
    () =>
      verifyWebhook(secret, first.body, first.headers, { now: new Date(Date.now() + 3600_000) }),
    /too old/,
  );
  await assert.rejects(
    () => verifyWebhook("whsec_" + btoa("another secret of 24 byt"), first.body, first.headers),
    WebhookVerificationError,
  );

  const endpointId = made.body.endpoint.id;
  const log = await app.call("GET", `/v1/projects/${pk}/webhooks/${endpointId}/deliveries`, {
    key: dev.dat,
  });
  assert.equal(log.body.deliveries.length, 1);
  const d = log.body.deliveries[0];
  assert.equal(d.state, "delivered");
  assert.deepEqual(d.attempts.map((a: { status: number }) => a.status), [503, 200]);
  assert.equal(d.attempts.filter((a: { status: number }) => a.status === 200).length, 1);
  assert.equal(d.id, first.headers["webhook-id"]);

  // manual retry: the same id again; a test ping
  const retried = await app.call(
    "POST",
    `/v1/projects/${pk}/webhooks/${endpointId}/deliveries/${d.id}/retry`,
    { key: dev.dat },
  );
  assert.equal(retried.status, 202);
  const ping = await app.call("POST", `/v1/projects/${pk}/webhooks/${endpointId}/test`, {
    key: dev.dat,
  });
  assert.equal(ping.status, 202);
  await runWebhooks(app.services);
  await runWebhooks(app.services);
  const ids = rx.got.map((r) => r.headers["webhook-id"]);
  assert.equal(ids[2], d.id);
  assert.equal((wh.verify(rx.got[3]!.body, rx.got[3]!.headers) as { type: string }).type, "ping");
  // an event type the endpoint did not ask for goes nowhere
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "ann" } });
  const events = await app.call("GET", `/v1/projects/${pk}/events?type=webhook_endpoint.created`, {
    key: dev.dat,
  });
  assert.equal(events.body.events.length, 1, "the endpoint's creation is audited");
});

Deno.test("[e2e] a server restarted in the middle of the back-off still delivers", async () => {
  await using kv = await Deno.openKv(":memory:");
  const clock = realClock();
  await using rx = webhookReceiver({ answer: inTurn([500]) });
  const config = { webhookAllowPrivate: true };
  let pk = "";
  let secret = "";
  {
    await using first = await testApp({ kv, clock, config });
    const dev = await developer(first);
    const p = await project(first, dev.dat);
    pk = p.pk;
    const made = await first.call("POST", `/v1/projects/${pk}/webhooks`, {
      key: dev.dat,
      body: { url: rx.url },
    });
    secret = made.body.secret;
    await first.call("POST", "/api/customers", { key: p.sk, body: { id: "bo" } });
    await runWebhooks(first.services);
    assert.equal(rx.got.length, 1, "first attempt failed (500)");
  } // the first server is gone; its back-off lives in the store
  await using second = await testApp({ kv, clock, config });
  clock.advance(5_000);
  await runWebhooks(second.services);
  assert.equal(rx.got.length, 2);
  assert.equal(rx.got[0]!.headers["webhook-id"], rx.got[1]!.headers["webhook-id"]);
  new Webhook(secret).verify(rx.got[1]!.body, rx.got[1]!.headers);
  assert.ok(pk);
});

Deno.test("[e2e] a receiver at 127.0.0.1 is refused without WEBHOOK_ALLOW_PRIVATE, at creation and at delivery", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  for (
    const url of [
      "http://127.0.0.1:9/x",
      "http://localhost/x",
      "http://169.254.169.254/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]:9/x", // a URL writes it [::ffff:7f00:1]
      "http://[::ffff:169.254.169.254]/",
    ]
  ) {
    const r = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
      key: dev.dat,
      body: { url },
    });
    assert.equal(r.status, 422, url);
    assert.equal(r.body.error.details[0].field, "url");
  }
  assert.equal(
    (await app.call("POST", `/v1/projects/${pk}/webhooks`, {
      key: dev.dat,
      body: { url: "ftp://example.com/" },
    })).status,
    422,
  );
  // made while allowed, then the setting is off: the delivery is refused before any request
  await using rx = webhookReceiver({ answer: inTurn([]) });
  await using kv = await Deno.openKv(":memory:");
  const clock = realClock();
  let epId = "";
  let key = "";
  let pk2 = "";
  {
    await using open = await testApp({ kv, clock, config: { webhookAllowPrivate: true } });
    const d2 = await developer(open);
    const p2 = await project(open, d2.dat);
    pk2 = p2.pk;
    key = d2.dat;
    epId = (await open.call("POST", `/v1/projects/${pk2}/webhooks`, {
      key: d2.dat,
      body: { url: rx.url },
    })).body.endpoint.id;
    await open.call("POST", `/v1/projects/${pk2}/webhooks/${epId}/test`, { key: d2.dat });
  }
  await using strict = await testApp({ kv, clock });
  await runWebhooks(strict.services);
  assert.equal(rx.got.length, 0, "nothing reached the private address");
  const log = await strict.call("GET", `/v1/projects/${pk2}/webhooks/${epId}/deliveries`, { key });
  assert.match(log.body.deliveries[0].attempts[0].error, /private, loopback or link-local/);
});

Deno.test("an endpoint whose name does not resolve is accepted (as at Stripe), and each attempt fails saying so until it does", async () => {
  // `.invalid` never resolves (RFC 2606), wherever the tests run
  await using app = await testApp({ clock: realClock() });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const made = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: "https://hooks.invalid/dream" },
  });
  assert.equal(made.status, 201, made.text);
  assert.match(made.body.secret, /^whsec_/);
  const id = made.body.endpoint.id;
  await app.call("POST", `/v1/projects/${pk}/webhooks/${id}/test`, { key: dev.dat });
  await runWebhooks(app.services);
  const log = await app.call("GET", `/v1/projects/${pk}/webhooks/${id}/deliveries`, {
    key: dev.dat,
  });
  const [attempt] = log.body.deliveries[0].attempts;
  assert.equal(attempt.status, null);
  assert.match(attempt.error, /hooks\.invalid does not resolve/);
});

Deno.test('an endpoint made with events ["*"] (Stripe\'s spelling) takes every type; an unknown type is 422', async () => {
  await using app = await testApp({ config: { webhookAllowPrivate: true } });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat);
  const all = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: "http://127.0.0.1:9/all", events: ["*"] },
  });
  assert.equal(all.status, 201, all.text);
  const none = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: "http://127.0.0.1:9/none" },
  });
  assert.deepEqual(all.body.endpoint.events, none.body.endpoint.events);
  assert.ok(all.body.endpoint.events.includes("order.refunded"));
  const bad = await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: "http://127.0.0.1:9/bad", events: ["customer.*"] },
  });
  assert.equal(bad.status, 422);
  const listed = await app.call("GET", `/v1/projects/${pk}/webhooks`, { key: dev.dat });
  assert.equal(listed.body.endpoints.length, 2);
});
