/** [e2e] Hardening: sign-in throttling is atomic, auth is limited per address, sign-up tells nothing. */
import assert from "node:assert/strict";
import { developer, ORIGIN, servePort, testApp } from "@/tests/helpers.ts";

const tally = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((m, s) => ({ ...m, [s]: (m[s] ?? 0) + 1 }), {});

Deno.test("[e2e] 200 concurrent wrong passwords: at most 5 checks, the rest 429, never 409", async () => {
  await using app = await testApp({ config: { passwordIterations: 1000 } });
  const dev = await developer(app);
  const attempt = (password: string) =>
    app.call("POST", "/v1/login", { body: { email: dev.email, password } });
  const wrong = Array.from({ length: 200 }, (_, i) => attempt(`wrong password ${i}`));
  const right = attempt("correct horse battery");
  const results = await Promise.all([...wrong.slice(0, 100), right, ...wrong.slice(100)]);
  const counts = tally(results.map((r) => r.status));
  assert.equal(counts[409] ?? 0, 0, JSON.stringify(counts));
  assert.ok((counts[401] ?? 0) + (counts[200] ?? 0) <= 5, JSON.stringify(counts));
  for (const r of results.filter((r) => r.status === 429)) {
    assert.equal(r.body.error.code, "rate_limited");
    assert.ok(Number(r.headers.get("retry-after")) >= 1);
  }
  const after = await attempt("correct horse battery");
  assert.equal(after.status, 429, "the right password is refused too until the window ends");
  app.clock.advance(15 * 60_000 + 1);
  assert.equal((await attempt("correct horse battery")).status, 200);
});

Deno.test("[e2e] sign-up and sign-in are limited per client address", async () => {
  await using app = await testApp({
    config: { passwordIterations: 1000, authRateLimitPerMinute: 3 },
  });
  await using srv = servePort(app);
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const res = await srv.call("POST", i % 2 ? "/v1/login" : "/v1/signup", {
      body: { email: `addr${i}@example.com`, password: "correct horse battery" },
    });
    statuses.push(res.status);
    if (res.status === 429) {
      assert.equal(res.body.error.code, "rate_limited");
      assert.ok(Number(res.headers.get("retry-after")) >= 1);
    }
  }
  assert.deepEqual(statuses.slice(3), [429, 429]);
  const page = await fetch(`${srv.base}/signin`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Origin: srv.base },
    body: "email=a%40example.com&password=correct+horse+battery",
  });
  await page.body?.cancel();
  assert.equal(page.status, 429, "the sign-in form shares the address's budget");
  app.clock.advance(60_000);
  const later = await srv.call("POST", "/v1/login", {
    body: { email: "addr1@example.com", password: "correct horse battery" },
  });
  assert.notEqual(later.status, 429);
});

Deno.test("[e2e] sign-up does not reveal which emails have an account", async () => {
  await using app = await testApp({ config: { passwordIterations: 1000 } });
  const dev = await developer(app);
  const taken = await app.call("POST", "/v1/signup", {
    body: { email: dev.email, password: "another long password" },
  });
  assert.equal(taken.status, 409);
  assert.doesNotMatch(taken.body.error.message, /taken|exist|registered|already/i);
  assert.equal(taken.headers.get("set-cookie"), null);
  // the same answer a lost race on a new email gets
  const raced = await Promise.all(
    [0, 1].map(() =>
      app.call("POST", "/v1/signup", {
        body: { email: "race@example.com", password: "race password 123" },
      })
    ),
  );
  const raceRefused = raced.find((r) => r.status !== 201);
  if (raceRefused) assert.equal(raceRefused.body.error.message, taken.body.error.message);
  // the owner's own password just signs in, with the same answer as a new account
  const own = await app.call("POST", "/v1/signup", {
    body: { email: dev.email, password: "correct horse battery" },
  });
  assert.equal(own.status, 201);
  assert.equal(own.body.developer.platformId, dev.platformId);
  assert.match(own.headers.get("set-cookie") ?? "", /dream_session=/);
  // sign-up is no way around the throttle: wrong guesses there count for the account
  for (let i = 0; i < 5; i++) {
    await app.call("POST", "/v1/signup", {
      body: { email: dev.email, password: `guess ${i} xyzw` },
    });
  }
  const login = await app.call("POST", "/v1/login", {
    body: { email: dev.email, password: "correct horse battery" },
    headers: { Origin: ORIGIN },
  });
  assert.equal(login.status, 429);
});
