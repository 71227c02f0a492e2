/**
 * [fuzz] Every route of /openapi.json (and the pages) gets random bytes, control characters,
 * huge ids, odd content types and odd headers, through a real port. No answer may be 5xx, every
 * answer carries X-Request-Id, every API error is the contract's JSON error, and the server must
 * stay up. Seeded (FUZZ_SEED) and bounded in count and time.
 */
import assert from "node:assert/strict";
import { prng } from "@/tests/prng.ts";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";

const SEED = Number(Deno.env.get("FUZZ_SEED") ?? 20261202);
const MAX_REQUESTS = 2500;
const MAX_MS = 12_000;

/**
 * What is wrong with an answer's error shape, if anything: every answer carries X-Request-Id, and
 * a non-2xx answer of the API (not a page, not HEAD, not a redirect) is the contract's JSON error
 * whose requestId is that header and whose top-level message repeats error.message.
 */
function errorShapeProblem(res: Response, text: string, method: string, url: string) {
  const id = res.headers.get("x-request-id");
  if (!id) return "no X-Request-Id";
  const path = new URL(url).pathname;
  if (res.status < 400 || method === "HEAD" || !/^\/(api|v1|webhook)\//.test(path)) return null;
  let body: {
    error?: { code?: unknown; message?: unknown; requestId?: unknown };
    message?: unknown;
  };
  try {
    body = JSON.parse(text);
  } catch {
    return "an error that is not JSON";
  }
  const e = body?.error;
  if (!e || typeof e.code !== "string" || !/^[a-z]+(_[a-z]+)*$/.test(e.code)) {
    return "no snake_case error.code";
  }
  if (typeof e.message !== "string" || e.message === "") return "no error.message";
  if (e.requestId !== id) return "error.requestId is not the X-Request-Id";
  if (body.message !== e.message) return "the top-level message differs";
  return null;
}

Deno.test("[fuzz] no input answers 5xx or stops the server", async () => {
  await using app = await testApp({
    config: { authRateLimitPerMinute: 0, holdsPerClient: 0, passwordIterations: 1000 },
  });
  await using srv = servePort(app);
  const rnd = prng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const dev = await developer(app);
  const saas = await project(app, dev.dat);
  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 1000 }],
  });
  await app.call("POST", "/api/customers", { key: saas.sk, body: { id: "fz" } });
  const checkout = await app.call("POST", "/api/create-checkout", {
    key: saas.sk,
    headers: { "X-User-Id": "fz" },
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  const portal = await app.call("POST", "/api/customer-portal", {
    key: saas.sk,
    headers: { "X-User-Id": "fz" },
    body: { returnUrl: "https://a.example/back" },
  });
  const cs = new URL(checkout.body.url).pathname.split("/").pop()!;
  const bps = new URL(portal.body.url).pathname.split("/").pop()!;

  const doc = await (await fetch(`${srv.base}/openapi.json`)).json();
  const routes: [string, string][] = [];
  for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) {
    for (const method of Object.keys(ops)) routes.push([method.toUpperCase(), path]);
  }
  assert.ok(routes.length > 30, "the document lists the API");
  for (
    const page of [
      "/",
      "/docs",
      "/signin",
      "/signup",
      "/signout",
      "/dashboard",
      "/dashboard/new",
      "/dashboard/tokens",
      "/dashboard/switch",
      "/dashboard/plan",
      "/dashboard/projects/{pk}",
      "/dashboard/projects/{pk}/tiers",
      "/dashboard/projects/{pk}/customers",
      "/dashboard/projects/{pk}/customers/{id}",
      "/dashboard/projects/{pk}/events",
      "/dashboard/projects/{pk}/keys",
      "/dashboard/projects/{pk}/live",
      "/dashboard/projects/{pk}/integrate",
      "/sandbox/checkout/{cs}",
      "/sandbox/checkout/{cs}/complete",
      "/sandbox/checkout/{cs}/cancel",
      "/sandbox/checkout/{cs}/expire",
      "/sandbox/portal/{bps}",
      "/sandbox/portal/{bps}/cancel",
      "/sandbox/portal/{bps}/resume",
      "/sandbox/portal/{bps}/switch",
      "/static/{file}",
      "/healthz",
    ]
  ) {
    routes.push(["GET", page], ["POST", page]);
  }

  const WEIRD = [
    "",
    "\u0000",
    "\u0001x",
    "\u007f",
    "\r\nSet-Cookie: a=b",
    "x".repeat(5000),
    "é☃💥",
    "../../etc/passwd",
    "%00",
    "%ZZ",
    "javascript:alert(1)",
    "https://evil.example/\u0001",
    "//evil.example",
    "/\\evil.example",
    "null",
    "[]",
    "{}",
    "0",
    "-1",
    "1e309",
    "NaN",
    "pk_test_" + "A".repeat(24),
    "sk_test_" + "A".repeat(24),
    "' OR 1=1 --",
    "<script>alert(1)</script>",
  ];
  const weird = () => pick(WEIRD);
  const bytes = (n: number) => {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
    return b;
  };
  const segment = (): string =>
    pick([
      () => encodeURIComponent(weird()),
      () => "x".repeat(pick([200, 3000, 9000])),
      () => "%00",
      () => "%01%7F",
      () => [...bytes(8)].map((b) => `%${b.toString(16).padStart(2, "0")}`).join(""),
      () => saas.pk,
      () => store.pk,
      () => "fz",
      () => cs,
      () => bps,
      () => "pro",
    ])();
  const fill = (path: string) =>
    path.replace(
      /\{(\w+)\}/g,
      (_, name: string) =>
        rnd() < 0.3
          ? ({ pk: saas.pk, id: "fz", name: "pro", cs, bps, platformId: dev.platformId }[name] ??
            segment())
          : segment(),
    );
  const query = () => {
    if (rnd() < 0.5) return "";
    const names = ["cursor", "limit", "next", "returnTo", "state", "mode", "from", "to", "pk", "q"];
    return "?" +
      Array.from(
        { length: 1 + Math.floor(rnd() * 3) },
        () =>
          `${pick(names)}=${pick([encodeURIComponent(weird()), "%00", "%7F", "1", "-5", "zz!!"])}`,
      ).join("&");
  };
  const jsonValue = (depth = 0): unknown =>
    pick([
      () => weird(),
      () => Math.floor(rnd() * 2e9) - 1e9,
      () => rnd() < 0.5,
      () => null,
      () => (depth < 3 ? [jsonValue(depth + 1)] : []),
      () => (depth < 3 ? { [weird().slice(0, 20)]: jsonValue(depth + 1) } : {}),
    ])();
  const FIELDS = [
    "email",
    "password",
    "name",
    "type",
    "tiers",
    "tier",
    "price",
    "limit",
    "inventory",
    "imageUrl",
    "successUrl",
    "cancelUrl",
    "returnUrl",
    "items",
    "priceId",
    "productId",
    "quantity",
    "graceSeconds",
    "id",
    "plan",
    "metadata",
    "archived",
    "position",
    "interval",
    "currency",
    "features",
    "description",
    "displayName",
    "amount",
    "restock",
  ];
  const body = (): { body?: BodyInit; type?: string } =>
    pick([
      () => ({}),
      () => ({
        body: bytes(Math.floor(rnd() * 300)),
        type: pick(["application/json", "text/plain"]),
      }),
      () => ({
        body: JSON.stringify(
          Object.fromEntries(
            Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => [pick(FIELDS), jsonValue()]),
          ),
        ),
        type: pick(["application/json", "application/vnd.x+json", "text/html", ""]),
      }),
      () => ({
        body: pick(["[]", "null", "1", '"x"', "{", '{"a":'] as const),
        type: "application/json",
      }),
      () => ({
        body: "--x\r\nbroken",
        type: pick(["multipart/form-data; boundary=x", "multipart/form-data"]),
      }),
      () => ({
        body: `email=${encodeURIComponent(weird())}&tier=${encodeURIComponent(weird())}`,
        type: "application/x-www-form-urlencoded",
      }),
    ])();
  const authHeaders = (): Record<string, string> =>
    pick([
      () => ({}),
      () => ({ Authorization: `Bearer ${saas.sk}` }),
      () => ({ Authorization: `Bearer ${store.pk}` }),
      () => ({ Authorization: `Bearer ${saas.pk}` }),
      () => ({ Authorization: `Bearer ${dev.dat}` }),
      () => ({ Cookie: dev.cookie, Origin: srv.base }),
      () => ({ Authorization: `Bearer ${encodeURIComponent(weird())}` }),
      () => ({ Authorization: "Basic Zm9vOmJhcg==" }),
    ])();
  const extraHeaders = (): Record<string, string> => {
    const h: Record<string, string> = {};
    // deno-lint-ignore no-control-regex
    const safe = (v: string) => v.replace(/[\u0000-\u001f\u007f-\uffff]/g, "?").slice(0, 6000);
    if (rnd() < 0.5) h["X-User-Id"] = safe(weird());
    if (rnd() < 0.3) h["Idempotency-Key"] = safe(weird()) || "k";
    if (rnd() < 0.3) h["X-Request-Id"] = safe(weird()) || "r";
    if (rnd() < 0.2) h["X-Customer-Token"] = safe(weird()) || "t";
    if (rnd() < 0.2) h["Stripe-Signature"] = pick(["t=1,v1=abc", "t=x", "", "v1="]) || "t=";
    if (rnd() < 0.3) h["Accept"] = pick(["text/html", "application/json", "*/*"]);
    return h;
  };

  const failures: string[] = [];
  const seen = new Set<number>();
  const started = Date.now();
  let sent = 0;
  while (sent < MAX_REQUESTS && Date.now() - started < MAX_MS) {
    const [route, template] = pick(routes);
    const method = rnd() < 0.1 ? pick(["PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]) : route;
    const url = `${srv.base}${fill(template)}${query()}`;
    const b = method === "GET" || method === "HEAD" ? {} : body();
    const headers: Record<string, string> = { ...authHeaders(), ...extraHeaders() };
    if (b.type) headers["Content-Type"] = b.type;
    sent++;
    try {
      const res = await fetch(url, {
        method,
        headers,
        redirect: "manual",
        ...(b.body !== undefined ? { body: b.body } : {}),
      });
      const text = await res.text();
      seen.add(res.status);
      if (res.status >= 500) failures.push(`${res.status} ${method} ${url.slice(0, 200)}`);
      const shape = errorShapeProblem(res, text, method, url);
      if (shape) failures.push(`${shape}: ${res.status} ${method} ${url.slice(0, 200)}`);
    } catch (err) {
      failures.push(`no answer: ${method} ${url.slice(0, 200)}: ${err}`);
    }
  }

  // raw requests with bytes no client library sends: control characters in the target and
  // in header values, through the same HTTP layer
  for (let i = 0; i < 60; i++) {
    const target = pick(["/signin?next=/\x01x", "/api/usage\x00", "/v1/me?x=\x7f", "/\xff\xfe"]);
    const head = pick(["X-User-Id: a\x01b", "X-Request-Id: \x7f", "Authorization: Bearer sk_\x00"]);
    const conn = await Deno.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(srv.base).port),
    });
    try {
      await conn.write(
        new TextEncoder().encode(
          `GET ${target} HTTP/1.1\r\nHost: x\r\n${head}\r\nConnection: close\r\n\r\n`,
        ),
      );
      const buf = new Uint8Array(256);
      const n = await conn.read(buf);
      const status = Number(
        /^HTTP\/1\.1 (\d{3})/.exec(new TextDecoder().decode(buf.subarray(0, n ?? 0)))?.[1],
      );
      if (status >= 500) {
        failures.push(`${status} raw ${JSON.stringify(target)} ${JSON.stringify(head)}`);
      }
    } catch {
      // the connection may be closed on a malformed request: that is an answer too
    } finally {
      conn.close();
    }
  }

  const health = await fetch(`${srv.base}/healthz`);
  await health.body?.cancel();
  assert.equal(health.status, 200, "the server is still up");
  const errs = app.logs.lines.filter((l) => l.level === "error").map((l) =>
    String(l.fields?.error)
  );
  assert.deepEqual(
    failures,
    [],
    `seed ${SEED}, ${sent} requests; ${[...new Set(errs)].join(" | ")}`,
  );
  assert.ok(sent >= 300, `enough requests were sent (${sent})`);
  for (const status of [200, 400, 401, 404, 422]) {
    assert.ok(seen.has(status), `the inputs reach the handlers: no ${status} among ${[...seen]}`);
  }
  const errors = app.logs.lines.filter((l) => l.level === "error");
  assert.deepEqual(errors.map((l) => `${l.msg} ${JSON.stringify(l.fields)}`.slice(0, 400)), []);
});
