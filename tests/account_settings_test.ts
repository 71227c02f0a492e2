/** [e2e] Account settings: change the password, sign out everywhere, delete the account. */
import assert from "node:assert/strict";
import { developer, ORIGIN, project, subscribe, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] a password change ends other sessions and keeps this browser signed in; sign out everywhere ends all", async () => {
  await using app = await testApp();
  const dev = await developer(app, "owner@example.com");
  const other = await app.call("POST", "/v1/login", {
    body: { email: "owner@example.com", password: "correct horse battery" },
  });
  const otherCookie = other.headers.get("set-cookie")!.split(";")[0]!;
  const me = (cookie: string) => app.call("GET", "/v1/me", { headers: { Cookie: cookie } });
  assert.equal((await me(otherCookie)).status, 200);
  const post = (path: string, cookie: string, body?: unknown) =>
    app.call("POST", path, {
      headers: { Cookie: cookie, Origin: ORIGIN },
      ...(body ? { body } : {}),
    });

  const wrong = await post("/v1/me/password", dev.cookie, {
    currentPassword: "not it at all",
    newPassword: "a brand new secret",
  });
  assert.equal(wrong.status, 422);
  assert.equal((await me(otherCookie)).status, 200, "a refused change ends nothing");
  assert.equal(
    (await post("/v1/me/password", dev.cookie, {
      currentPassword: "correct horse battery",
      newPassword: "short",
    })).status,
    422,
  );
  const crossSite = await app.call("POST", "/v1/me/password", {
    headers: { Cookie: dev.cookie, Origin: "https://evil.example" },
    body: { currentPassword: "correct horse battery", newPassword: "a brand new secret" },
  });
  assert.equal(crossSite.status, 403);

  const ok = await post("/v1/me/password", dev.cookie, {
    currentPassword: "correct horse battery",
    newPassword: "a brand new secret",
  });
  assert.equal(ok.status, 200, ok.text);
  const fresh = ok.headers.get("set-cookie")!.split(";")[0]!;
  assert.equal((await me(fresh)).status, 200, "this browser stays signed in");
  assert.equal((await me(otherCookie)).status, 401, "the other session ended");
  assert.equal((await me(dev.cookie)).status, 401, "the old cookie of this browser too");
  assert.equal(
    (await app.call("GET", "/v1/me", { key: dev.dat })).status,
    200,
    "access tokens stay",
  );
  const oldPw = await app.call("POST", "/v1/login", {
    body: { email: "owner@example.com", password: "correct horse battery" },
  });
  assert.equal(oldPw.status, 401);
  const newPw = await app.call("POST", "/v1/login", {
    body: { email: "owner@example.com", password: "a brand new secret" },
  });
  assert.equal(newPw.status, 200);
  const second = newPw.headers.get("set-cookie")!.split(";")[0]!;

  const out = await post("/v1/me/sessions/revoke", fresh);
  assert.equal(out.status, 200);
  assert.equal((await me(fresh)).status, 401);
  assert.equal((await me(second)).status, 401);
  const back = await app.call("POST", "/v1/login", {
    body: { email: "owner@example.com", password: "a brand new secret" },
  });
  assert.equal(
    (await me(back.headers.get("set-cookie")!.split(";")[0]!)).status,
    200,
    "signing in again works",
  );
});

Deno.test("[e2e] the Account page offers both, linked from the header", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const page = await app.call("GET", "/dashboard/account", {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.equal(page.status, 200);
  assert.match(page.text, /Change password/);
  assert.match(page.text, /Sign out everywhere/);
  assert.match(page.text, /href="\/dashboard\/account"/);
});

Deno.test("[e2e] deleting the account: wrong password changes nothing; then projects, tokens and sessions stop, and the email is free", async () => {
  await using app = await testApp();
  const dev = await developer(app, "leaver@example.com");
  const p = await project(app, dev.dat);
  const del = (body: unknown, cookie = dev.cookie) =>
    app.call("DELETE", "/v1/me", { headers: { Cookie: cookie, Origin: ORIGIN }, body });
  const wrong = await del({ confirm: "not my password" });
  assert.equal(wrong.status, 422, wrong.text);
  assert.equal(wrong.body.error.details[0].field, "confirm");
  assert.equal((await app.call("GET", "/v1/me", { key: dev.dat })).status, 200);
  assert.equal(
    (await app.call("POST", "/api/data", { key: p.sk, headers: { "X-User-Id": "u" } })).status,
    200,
  );
  assert.equal((await del({ confirm: "x", extra: 1 })).status, 422);
  const crossSite = await app.call("DELETE", "/v1/me", {
    headers: { Cookie: dev.cookie, Origin: "https://evil.example" },
    body: { confirm: "correct horse battery" },
  });
  assert.equal(crossSite.status, 403);

  const ok = await del({ confirm: "correct horse battery" });
  assert.equal(ok.status, 200, ok.text);
  assert.deepEqual(ok.body, { deleted: true, projects: 1 });
  assert.equal((await app.call("GET", "/v1/me", { headers: { Cookie: dev.cookie } })).status, 401);
  assert.equal((await app.call("GET", "/v1/me", { key: dev.dat })).status, 401);
  const track = await app.call("POST", "/api/data", { key: p.sk, headers: { "X-User-Id": "u" } });
  assert.equal(track.status, 401);
  const again = await app.call("POST", "/v1/signup", {
    body: { email: "leaver@example.com", password: "another long password" },
  });
  assert.equal(again.status, 201, again.text);
  assert.notEqual(again.body.developer.platformId, dev.platformId);
  const mine = await app.call("GET", "/v1/projects", {
    headers: { Cookie: again.headers.get("set-cookie")!.split(";")[0]! },
  });
  assert.equal(mine.body.projects.length, 0);
});

Deno.test("[e2e] deleting the account cancels its projects' running subscriptions at the provider", async () => {
  await using app = await testApp();
  const dev = await developer(app, "closing@example.com");
  const { sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 5 }, { name: "pro", price: 1900, limit: 100 }],
  });
  const subId = await subscribe(app, sk, "payer");
  const ok = await app.call("DELETE", "/v1/me", {
    headers: { Cookie: dev.cookie, Origin: ORIGIN },
    body: { confirm: "correct horse battery" },
  });
  assert.equal(ok.status, 200, ok.text);
  // the sandbox's retrieve ignores the account: the subscription as the provider holds it
  const sub = await app.services.payments.retrieveSubscription(
    { accountId: null, mode: "test" },
    subId,
  );
  assert.equal(sub.status, "canceled");
});
