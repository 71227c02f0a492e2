/** [e2e] server-rendered pages: read-only pages carry their data without JavaScript; auth and CSRF on forms. */
import assert from "node:assert/strict";
import { developer, ORIGIN, project, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] dashboard pages render server-side, need a session, and guard other tenants", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { name: "Weather" });
  for (let i = 0; i < 3; i++) {
    await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": `reader_${i}` } });
  }
  const page = (path: string, cookie = dev.cookie) =>
    app.call("GET", path, { headers: { Cookie: cookie, Accept: "text/html" } });

  const anon = await app.call("GET", `/dashboard/projects/${pk}`, {
    headers: { Accept: "text/html" },
  });
  assert.equal(anon.status, 303);
  assert.equal(
    anon.headers.get("location"),
    `/signin?next=${encodeURIComponent(`/dashboard/projects/${pk}`)}`,
  );

  const overview = await page(`/dashboard/projects/${pk}`);
  assert.equal(overview.status, 200);
  assert.match(overview.text, /data-testid="m-usage">3</);
  assert.match(overview.text, /data-island="UsageChart"/);
  assert.match(overview.text, /<table>/, "the chart's data is a table without JavaScript");

  const customers = await page(`/dashboard/projects/${pk}/customers`);
  assert.match(customers.text, /reader_0/);
  assert.match(customers.text, /reader_2/);
  const events = await page(`/dashboard/projects/${pk}/events`);
  assert.equal(events.status, 200);
  const detail = await page(`/dashboard/projects/${pk}/customers/reader_1`);
  assert.match(detail.text, /data-testid="customer-plan">free</);
  const integrate = await page(`/dashboard/projects/${pk}/integrate`);
  assert.ok(integrate.text.includes(pk));
  assert.ok(!integrate.text.includes(sk), "the secret key is never on a page");

  const other = await developer(app);
  const foreign = await page(`/dashboard/projects/${pk}`, other.cookie);
  assert.equal(foreign.status, 403);
  assert.match(foreign.headers.get("content-type")!, /text\/html/);
  assert.ok(!foreign.text.includes("Weather"));
  const missing = await page(`/dashboard/projects/pk_test_${"0".repeat(24)}`);
  assert.equal(missing.status, 404);
  assert.match(missing.text, /Not found/);
});

Deno.test("[e2e] sign-in and sign-up forms work without JavaScript and refuse cross-site posts", async () => {
  await using app = await testApp();
  const form = (path: string, body: Record<string, string>, origin = ORIGIN) =>
    app.call("POST", path, {
      raw: new URLSearchParams(body).toString(),
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        Origin: origin,
        Accept: "text/html",
      },
    });
  const up = await form("/signup?next=/dashboard/tokens", {
    email: "form@example.com",
    password: "long password 123",
  });
  assert.equal(up.status, 303);
  assert.equal(up.headers.get("location"), "/dashboard/tokens");
  assert.match(up.headers.get("set-cookie")!, /dream_session=.*HttpOnly/);
  const bad = await form("/signin", { email: "form@example.com", password: "wrong password 1" });
  assert.equal(bad.status, 401);
  assert.match(bad.text, /role="alert"[^>]*>Email or password is wrong/);
  const evil = await form(
    "/signin",
    { email: "form@example.com", password: "long password 123" },
    "https://evil.example",
  );
  assert.equal(evil.status, 403);
  const open = await form("/signin?next=https://evil.example", {
    email: "form@example.com",
    password: "long password 123",
  });
  assert.equal(open.status, 422, "another origin is refused, never redirected to");
  assert.equal(open.headers.get("location"), null, "no open redirect");
  const short = await form("/signup", { email: "x@example.com", password: "short" });
  assert.equal(short.status, 422);
});

Deno.test("an unknown page asked for by a browser is an HTML 404 with navigation; the API stays JSON", async () => {
  const { testApp } = await import("@/tests/helpers.ts");
  await using app = await testApp();
  const page = await app.call("GET", "/dashboard/nope", { headers: { Accept: "text/html" } });
  assert.equal(page.status, 404);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  assert.match(
    page.text,
    /<nav aria-label="Main"><a href="\/docs">Docs<\/a><a href="\/dashboard">/,
  );
  const api = await app.call("GET", "/api/nope", { headers: { Accept: "text/html" } });
  assert.equal(api.status, 404);
  assert.equal(api.body.error.code, "not_found");
});

Deno.test("[e2e] island bundles have content-hashed names and are cached as immutable; CSS is not", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const page = await app.call("GET", "/dashboard/account", {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  const srcs = [...page.text.matchAll(/<script type="module" src="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(srcs.length >= 2, page.text.slice(-500));
  for (const src of srcs) {
    assert.match(src, /^\/static\/build\/[A-Za-z]+-[0-9A-F]{10}\.js$/);
    const js = await app.call("GET", src);
    assert.equal(js.status, 200, src);
    assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
    // the chunks it imports are hashed too
    for (const [, chunk] of js.text.matchAll(/from"\.\/([^"]+)"/g)) {
      const c = await app.call("GET", `/static/build/${chunk}`);
      assert.equal(c.headers.get("cache-control"), "public, max-age=31536000, immutable", chunk);
    }
  }
  const css = await app.call("GET", "/static/app.css");
  assert.equal(css.headers.get("cache-control"), "public, max-age=300");
});
