/** [e2e] Hardening: no input crashes the server or answers 5xx (CONTRACT "Hardening rules"). */
import assert from "node:assert/strict";
import { developer, ORIGIN, project, servePort, testApp } from "@/tests/helpers.ts";
import { signPayload } from "@/lib/payments/signature.ts";
import Stripe from "stripe";

const STORE = [{ name: "mug", price: 1200, inventory: 8 }];

Deno.test("[e2e] a control character in a redirect target is 422 and never reaches Location", async (t) => {
  await using app = await testApp();
  // a real port: Deno's HTTP layer is what a bad Location header used to crash
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, { type: "store", tiers: STORE });
  const saas = await project(app, dev.dat);
  const priceId = (await srv.call("GET", "/api/products", { key: pk })).body.products[0].priceId;
  const cart = (successUrl: string) =>
    srv.call("POST", "/api/cart/checkout", {
      key: pk,
      body: { items: [{ priceId, quantity: 1 }], successUrl, cancelUrl: "https://shop.example/c" },
    });

  await t.step(
    "cart, checkout and portal URLs with controls, spaces or other schemes",
    async () => {
      for (
        const bad of [
          "https://shop.example/ok\u0001",
          "https://shop.example/ok\u007f",
          "https://shop.example/o k",
          "https://shop.example/ok\r\nSet-Cookie: x=1",
          "javascript:alert(1)",
          `https://shop.example/${"a".repeat(2100)}`,
        ]
      ) {
        const res = await cart(bad);
        assert.equal(res.status, 422, JSON.stringify(bad));
        assert.equal(res.body.error.code, "validation_failed");
        const sub = await srv.call("POST", "/api/create-checkout", {
          key: saas.sk,
          headers: { "X-User-Id": "u1" },
          body: { tier: "pro", successUrl: bad, cancelUrl: "https://app.example/c" },
        });
        assert.equal(sub.status, 422, JSON.stringify(bad));
        const portal = await srv.call("POST", "/api/customer-portal", {
          key: saas.sk,
          headers: { "X-User-Id": "u1" },
          body: { returnUrl: bad },
        });
        assert.equal(portal.status, 422, JSON.stringify(bad));
      }
      const products = await srv.call("GET", "/api/products", { key: pk });
      assert.equal(products.body.products[0].inventory, 8, "a refused cart reserves nothing");
    },
  );

  await t.step("a good checkout still pays and redirects; the server is alive", async () => {
    const ok = await cart("https://shop.example/ok?x=1");
    assert.equal(ok.status, 200);
    const res = await fetch(`${ok.body.url}/complete`, {
      method: "POST",
      redirect: "manual",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "email=buyer%40example.com",
    });
    await res.body?.cancel();
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "https://shop.example/ok?x=1");
    assert.equal((await srv.call("GET", "/healthz")).status, 200);
  });

  await t.step("next and returnTo must be same-origin paths", async () => {
    for (const next of ["/%01x", "/%00", "/%7Fx", "//evil.example", "https://evil.example"]) {
      const page = await fetch(`${srv.base}/signin?next=${next}`, { redirect: "manual" });
      await page.body?.cancel();
      assert.equal(page.status, 422, next);
      const form = await fetch(`${srv.base}/signin?next=${next}`, {
        method: "POST",
        redirect: "manual",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: srv.base },
        body: `email=${encodeURIComponent(dev.email)}&password=correct+horse+battery`,
      });
      await form.body?.cancel();
      assert.equal(form.status, 422, next);
      assert.equal(form.headers.get("location"), null);
      const connect = await srv.call("GET", `/v1/connect/authorize?returnTo=${next}`, {
        key: dev.dat,
      });
      assert.equal(connect.status, 422, next);
    }
    const good = await fetch(`${srv.base}/v1/connect/authorize?returnTo=/dashboard/x`, {
      redirect: "manual",
      headers: { Authorization: `Bearer ${dev.dat}` },
    });
    await good.body?.cancel();
    assert.equal(good.status, 302);
    assert.equal(good.headers.get("location"), "/dashboard/x");
    assert.equal((await srv.call("GET", "/healthz")).status, 200);
  });

  await t.step(
    "imageUrl takes http(s) or our asset paths, never javascript:, data: or file:",
    async () => {
      for (const imageUrl of ["javascript:alert(1)", "data:image/png;base64,AA==", "file:///x"]) {
        const res = await srv.call("POST", `/v1/projects/${pk}/tiers`, {
          key: dev.dat,
          body: { name: "cup", price: 500, imageUrl },
        });
        assert.equal(res.status, 422, imageUrl);
      }
      const own = await srv.call("POST", `/v1/projects/${pk}/tiers`, {
        key: dev.dat,
        body: { name: "cup", price: 500, imageUrl: `/api/assets/${dev.platformId}/x.png` },
      });
      assert.equal(own.status, 201, own.text);
    },
  );
});

Deno.test("[e2e] malformed cursors are 400 and overlong ids are 4xx, never 500", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat);
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "u1" } });
  const page = (path: string) =>
    app.call("GET", path, { headers: { Cookie: dev.cookie, Accept: "text/html" } });
  for (const cursor of ["zz!!", "%00", "AAAA%2F%2F", "x".repeat(600), "Amsxw6l-IQAhv_AAAAAAAAA="]) {
    for (const path of [`/v1/projects/${pk}/customers`, `/v1/projects/${pk}/events`]) {
      const res = await app.call("GET", `${path}?cursor=${cursor}`, { key: dev.dat });
      assert.ok(res.status === 400 || res.status === 200, `${path} ${cursor}: ${res.status}`);
      if (res.status === 400) assert.equal(res.body.error.code, "invalid_request");
    }
    for (const path of ["customers", "events"]) {
      const res = await page(`/dashboard/projects/${pk}/${path}?cursor=${cursor}`);
      assert.ok(res.status < 500, `dashboard ${path} ${cursor}: ${res.status}`);
    }
  }
  const bad = await app.call("GET", `/v1/projects/${pk}/customers?cursor=zz!!`, { key: dev.dat });
  assert.equal(bad.status, 400);
  const long = "x".repeat(5000);
  for (
    const [path, auth] of [
      [`/sandbox/checkout/cs_test_${long}`, {}],
      [`/sandbox/portal/bps_${long}`, {}],
      [`/dashboard/projects/${pk}/customers/${long}`, { Cookie: dev.cookie }],
      [`/api/customers/${long}`, { Authorization: `Bearer ${sk}` }],
      [`/v1/projects/pk_test_${long}`, { Authorization: `Bearer ${dev.dat}` }],
    ] as const
  ) {
    const res = await app.call("GET", path, { headers: { ...auth, Accept: "text/html" } });
    assert.ok(res.status >= 400 && res.status < 500, `${path.slice(0, 40)}: ${res.status}`);
  }
  for (const action of ["complete", "cancel", "expire"]) {
    const res = await app.call("POST", `/sandbox/checkout/cs_test_${long}/${action}`);
    assert.ok(res.status >= 400 && res.status < 500, `${action}: ${res.status}`);
  }
  const del = await app.call("DELETE", `/api/customers/${long}`, { key: sk });
  assert.ok(del.status >= 400 && del.status < 500, `delete: ${del.status}`);
  const token = await app.call("POST", `/api/customers/${long}/token`, { key: sk });
  assert.ok(token.status >= 400 && token.status < 500, `token: ${token.status}`);
  assert.equal(app.logs.lines.filter((l) => l.level === "error").length, 0);
});

Deno.test("[e2e] signed but malformed provider events are 400 and change nothing", async () => {
  await using app = await testApp();
  const stripe = new Stripe("sk_test_x");
  const secret = `whsec_sandbox_${app.services.config.appSecret}`;
  const send = async (event: unknown) => {
    const payload = JSON.stringify(event);
    const sig = await signPayload(stripe, {
      payload,
      secret,
      timestamp: Math.floor(app.clock.now() / 1000),
    });
    return app.call("POST", "/webhook/stripe", {
      raw: payload,
      headers: { "Content-Type": "application/json", "Stripe-Signature": sig },
    });
  };
  const created = Math.floor(app.clock.now() / 1000);
  const sub = {
    id: "sub_1",
    object: "subscription",
    customer: "cus_1",
    status: "active",
    cancel_at_period_end: false,
    created,
    metadata: { dream_pk: "pk_test_x", dream_customer: "u1" },
    items: {
      data: [{ price: { id: "price_1", product: "prod_1", unit_amount: 100, currency: "usd" } }],
    },
  };
  const base = { object: "event", created, livemode: false, account: null };
  const bad = [
    { ...base, id: "evt_a", type: "customer.subscription.updated", data: { object: null } },
    {
      ...base,
      id: "evt_b",
      type: "customer.subscription.updated",
      data: { object: { ...sub, items: undefined } },
    },
    {
      ...base,
      id: "evt_c",
      type: "customer.subscription.updated",
      data: { object: { ...sub, items: { data: [{ price: null }] } } },
    },
    {
      ...base,
      id: "evt_d",
      type: "customer.subscription.updated",
      data: { object: { ...sub, created: "soon" } },
    },
    {
      ...base,
      id: "evt_e",
      type: "checkout.session.completed",
      data: { object: { id: "cs_1", mode: 5 } },
    },
    { ...base, id: "evt_f", type: "invoice.paid", data: { object: { parent: "x" } } },
    {
      ...base,
      id: "evt_g",
      type: "customer.subscription.updated",
      created: "x",
      data: { object: sub },
    },
    { ...base, id: "evt_h", type: "checkout.session.expired" },
    {
      ...base,
      id: "evt_i",
      type: "customer.subscription.updated",
      data: {
        object: {
          ...sub,
          items: { data: [{ price: sub.items.data[0]!.price, current_period_end: "never" }] },
        },
      },
    },
  ];
  for (const ev of bad) {
    const res = await send(ev);
    assert.equal(res.status, 400, `${ev.id}: ${res.text}`);
    assert.equal(res.body.error.code, "invalid_request");
    const again = await send(ev);
    assert.equal(again.status, 400, "nothing was claimed: the same event is judged again");
  }
  assert.equal(app.logs.lines.filter((l) => l.level === "error").length, 0);
});

/** A body of `total` bytes in 64 KiB chunks, counting how much of it was ever pulled. */
function hugeBody(total: number) {
  const chunk = new Uint8Array(64 * 1024).fill(0x61);
  const seen = { pulled: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (seen.pulled >= total) return ctl.close();
      seen.pulled += chunk.byteLength;
      ctl.enqueue(chunk);
    },
  });
  return { stream, seen };
}

Deno.test("[e2e] bodies without Content-Length are cut off at the limit while they stream", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat);
  // warm the caches so /api/data is answered by the hot path
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "u1" } });
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "u1" } });
  const max = app.services.config.maxBodyBytes;
  const cases: [string, Record<string, string>, number][] = [
    ["/api/data", { Authorization: `Bearer ${sk}`, "X-User-Id": "u1" }, max],
    ["/api/customers", { Authorization: `Bearer ${sk}` }, max],
    ["/v1/projects", { Authorization: `Bearer ${dev.dat}` }, max],
    ["/v1/assets", {
      Authorization: `Bearer ${dev.dat}`,
      "Content-Type": "multipart/form-data; boundary=x",
    }, 5 * 1024 * 1024 + 64 * 1024],
    ["/signin", { "Content-Type": "application/x-www-form-urlencoded" }, max],
    ["/webhook/stripe", { "Stripe-Signature": "t=1,v1=x" }, 1024 * 1024],
  ];
  for (const [path, headers, limit] of cases) {
    const { stream, seen } = hugeBody(200 * 1024 * 1024);
    const res = await app.fetch(
      new Request(`${ORIGIN}${path}`, {
        method: "POST",
        headers: { "Content-Type": "application/json", ...headers },
        body: stream,
      }),
    );
    const body = await res.json();
    assert.equal(res.status, 413, `${path}: ${JSON.stringify(body)}`);
    assert.equal(body.error.code, "payload_too_large");
    assert.ok(seen.pulled <= limit + 3 * 64 * 1024, `${path} read ${seen.pulled} bytes`);
  }
  const usage = await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "u1" } });
  assert.equal(usage.body.usage.count, 2, "nothing was counted");
});

Deno.test("[e2e] unpaid store holds are bounded per client address and project", async () => {
  await using app = await testApp({ config: { holdsPerClient: 3, trustProxy: 1 } });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 100 }],
  });
  const priceId = (await app.call("GET", "/api/products", { key: pk })).body.products[0].priceId;
  const cart = (from: string) =>
    app.call("POST", "/api/cart/checkout", {
      key: pk,
      headers: { "X-Forwarded-For": from },
      body: {
        items: [{ priceId, quantity: 1 }],
        successUrl: "https://shop.example/ok",
        cancelUrl: "https://shop.example/no",
      },
    });
  const held = await Promise.all([1, 2, 3, 4, 5].map(() => cart("203.0.113.7")));
  const statuses = held.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const refused = held.find((r) => r.status === 429)!;
  assert.equal(refused.body.error.code, "rate_limited");
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  const stock = async () =>
    (await app.call("GET", "/api/products", { key: pk })).body.products[0].inventory;
  assert.equal(await stock(), 97, "a refused hold reserves nothing");
  // the proxy appends the address it saw: entries a client writes before it change nothing
  assert.equal((await cart("10.9.9.9, 203.0.113.7")).status, 429, "a forged first entry");
  assert.equal((await cart("198.51.100.2")).status, 200, "another client has its own bound");
  // paying one and abandoning another frees two places
  const [paid, dropped] = held.filter((r) => r.status === 200);
  await app.call("POST", `${new URL(paid!.body.url).pathname}/complete`);
  await app.call("POST", `${new URL(dropped!.body.url).pathname}/cancel`);
  assert.equal((await cart("203.0.113.7")).status, 200);
  assert.equal((await cart("203.0.113.7")).status, 200);
  assert.equal((await cart("203.0.113.7")).status, 429);
});

Deno.test("[e2e] each developer's uploads are bounded by a byte quota; a failed upload costs nothing", async () => {
  const { PNG } = await import("@/tests/fixtures_images.ts");
  let failing = false;
  const files = new Map<string, Uint8Array>();
  const storage = {
    kind: "fs" as const,
    put(key: string, bytes: Uint8Array) {
      if (failing) return Promise.reject(new Error("disk full"));
      files.set(key, bytes);
      return Promise.resolve();
    },
    get: (key: string) =>
      Promise.resolve(
        files.has(key) ? { bytes: files.get(key)!, contentType: "image/png" } : null,
      ),
  };
  await using app = await testApp({
    config: { uploadQuotaBytes: PNG.byteLength * 2 + 10 },
    storage,
  });
  const dev = await developer(app);
  const other = await developer(app);
  const upload = (dat: string) => {
    const form = new FormData();
    form.append("file", new File([PNG as BlobPart], "x.png", { type: "image/png" }));
    return app.fetch(
      new Request(`${ORIGIN}/v1/assets`, {
        method: "POST",
        headers: { Authorization: `Bearer ${dat}` },
        body: form,
      }),
    );
  };
  assert.equal((await upload(dev.dat)).status, 201);
  failing = true;
  const failed = await upload(dev.dat);
  await failed.body?.cancel();
  assert.equal(failed.status, 500);
  failing = false;
  assert.equal((await upload(dev.dat)).status, 201, "the failed upload used none of the quota");
  const over = await upload(dev.dat);
  const body = await over.json();
  assert.equal(over.status, 413);
  assert.equal(body.error.code, "payload_too_large");
  assert.match(body.error.message, /quota/);
  assert.equal(files.size, 2);
  assert.equal((await upload(other.dat)).status, 201, "the quota is per developer");
});

Deno.test("[e2e] CSP form-action is this server and the payment provider, plus a checkout's return", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, { type: "store", tiers: STORE });
  const formAction = (res: { headers: Headers }) =>
    /form-action ([^;]*)/.exec(res.headers.get("content-security-policy") ?? "")?.[1];
  const dash = await app.call("GET", "/dashboard", {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.equal(formAction(dash), "'self'", "the sandbox's pages are this server's");
  const priceId = (await app.call("GET", "/api/products", { key: pk })).body.products[0].priceId;
  const cart = await app.call("POST", "/api/cart/checkout", {
    key: pk,
    body: {
      items: [{ priceId, quantity: 1 }],
      successUrl: "https://shop.example/ok",
      cancelUrl: "https://cart.example/back",
    },
  });
  const page = await app.call("GET", new URL(cart.body.url).pathname);
  assert.equal(formAction(page), "'self' https://shop.example https://cart.example");
  assert.equal(formAction(await app.call("GET", "/signin")), "'self'", "other pages stay strict");
  const { contentSecurityPolicy } = await import("@/lib/http/security.ts");
  const { StripeProvider } = await import("@/lib/payments/stripe.ts");
  const stripe = new StripeProvider({
    secretKeyTest: "sk_test_x",
    secretKeyLive: null,
    webhookSecrets: ["whsec_x"],
  });
  assert.match(
    contentSecurityPolicy({ extraScripts: [], providerOrigins: stripe.formOrigins }),
    /form-action 'self' https:\/\/checkout\.stripe\.com https:\/\/billing\.stripe\.com https:\/\/connect\.stripe\.com(;|$)/,
  );
});

Deno.test("[e2e] the hot path and the full app answer the same CORS and request-id headers", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat);
  const headers = { "X-User-Id": "h1", Origin: "https://app.example" };
  const full = await app.call("GET", "/api/usage", { key: sk, headers }); // first: the full app
  const hot = await app.call("GET", "/api/usage", { key: sk, headers }); // cached: the hot path
  for (const h of ["access-control-expose-headers", "access-control-allow-origin"]) {
    assert.ok(full.headers.get(h), h);
    assert.equal(hot.headers.get(h), full.headers.get(h), h);
  }
  for (const id of ["short", "a b c d e f g h", "x".repeat(200), "ok-request-id-123"]) {
    const a = await app.call("GET", "/api/usage", { key: sk, headers: { "X-Request-Id": id } });
    const b = await app.call("GET", "/api/tiers", {
      key: sk,
      headers: { "X-Request-Id": id },
    });
    assert.equal(a.headers.get("x-request-id") === id, b.headers.get("x-request-id") === id, id);
  }
});

/**
 * One raw HTTP/1.1 request (fetch can't send TRACE or TRACK), its body chunked (no
 * Content-Length, so the server streams it); answers status, headers and body.
 */
async function rawRequest(base: string, head: string, body = "") {
  const { hostname, port } = new URL(base);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const bytes = new TextEncoder().encode(body);
  const chunk = bytes.length ? `${bytes.length.toString(16)}\r\n${body}\r\n` : "";
  await conn.write(
    new TextEncoder().encode(
      `${head}\r\nHost: ${hostname}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
        `${chunk}0\r\n\r\n`,
    ),
  );
  let text = "";
  const buf = new Uint8Array(16384);
  for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
    text += new TextDecoder().decode(buf.subarray(0, n));
  }
  conn.close();
  const [headers, ...rest] = text.split("\r\n\r\n");
  return {
    status: Number(/^HTTP\/1\.1 (\d+)/.exec(headers!)?.[1]),
    headers: headers!,
    body: rest.join(""),
  };
}

Deno.test("[e2e] TRACE and TRACK (methods fetch forbids) are JSON 404s, never 500", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  for (const method of ["TRACE", "TRACK", "trace"]) {
    for (const path of ["/api/data", "/v1/projects", "/healthz", "/"]) {
      for (const body of ["", '{"quantity":1}']) {
        const r = await rawRequest(srv.base, `${method} ${path} HTTP/1.1`, body);
        assert.equal(r.status, 404, `${method} ${path}: ${r.headers}`);
        assert.match(r.headers, /x-request-id: req_/i);
        assert.equal(JSON.parse(r.body).error.code, "not_found");
      }
    }
  }
  assert.ok(!app.logs.lines.some((l) => l.level === "error"), "nothing logged as an error");
});
