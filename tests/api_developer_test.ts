/** [e2e] the developer API: accounts, sessions, CSRF, tokens, projects and tiers. */
import assert from "node:assert/strict";
import { developer, ORIGIN, project, SAAS_TIERS, testApp } from "@/tests/helpers.ts";
import { getProject } from "@/lib/kv/projects.ts";
import { sha256Hex } from "@/lib/crypto.ts";

// deno-lint-ignore no-explicit-any
function assertError(res: { status: number; body: any }, status: number, code: string) {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
}

Deno.test("[e2e] developer accounts and sessions", async (t) => {
  await using app = await testApp();
  const creds = { email: "Dev@Example.com", password: "correct horse battery" };
  let cookie = "";

  await t.step(
    "POST /v1/signup creates a platform id and sets an HttpOnly session cookie",
    async () => {
      const res = await app.call("POST", "/v1/signup", { body: creds });
      assert.equal(res.status, 201);
      assert.match(res.body.developer.platformId, /^plt_[0-9A-Za-z]{20,}$/);
      assert.equal(res.body.developer.email, "dev@example.com");
      assert.equal(res.body.developer.passwordHash, undefined);
      const set = res.headers.get("set-cookie")!;
      assert.match(set, /dream_session=/);
      assert.match(set, /HttpOnly/);
      assert.match(set, /SameSite=Lax/);
      cookie = set.split(";")[0]!;
    },
  );

  await t.step("signup refuses a taken email, a short password, a bad email", async () => {
    assertError(
      await app.call("POST", "/v1/signup", {
        body: { email: "dev@EXAMPLE.com", password: "another long password" },
      }),
      409,
      "conflict",
    );
    assertError(
      await app.call("POST", "/v1/signup", { body: { email: "x@y.com", password: "short" } }),
      422,
      "validation_failed",
    );
    // seven characters are too few; eight (NIST SP 800-63B's minimum) are enough
    assertError(
      await app.call("POST", "/v1/signup", { body: { email: "x@y.com", password: "1234567" } }),
      422,
      "validation_failed",
    );
    const eight = await app.call("POST", "/v1/signup", {
      body: { email: "eight@example.com", password: "secret12" },
    });
    assert.equal(eight.status, 201, eight.text);
    assertError(
      await app.call("POST", "/v1/signup", { body: { email: "nope", password: "long enough pw" } }),
      422,
      "validation_failed",
    );
  });

  await t.step("the password is stored as a PBKDF2 hash, never in plaintext", async () => {
    const dump: string[] = [];
    for await (const e of app.kv.list({ prefix: [] })) dump.push(JSON.stringify(e.value));
    assert.ok(!dump.join("").includes(creds.password));
    assert.ok(dump.join("").includes("pbkdf2-sha256$600000$"));
  });

  await t.step("GET /v1/me with the cookie; without it 401", async () => {
    const me = await app.call("GET", "/v1/me", { headers: { Cookie: cookie } });
    assert.equal(me.status, 200);
    assert.equal(me.body.developer.email, "dev@example.com");
    assert.equal(me.body.developer.paymentConnection, null);
    assertError(await app.call("GET", "/v1/me"), 401, "unauthenticated");
    assertError(
      await app.call("GET", "/v1/me", { headers: { Cookie: "dream_session=forged" } }),
      401,
      "unauthenticated",
    );
  });

  await t.step("cookie-authenticated unsafe requests need our own Origin (CSRF)", async () => {
    const body = { name: "t" };
    assertError(
      await app.call("POST", "/v1/tokens", { body, headers: { Cookie: cookie } }),
      403,
      "forbidden",
    );
    assertError(
      await app.call("POST", "/v1/tokens", {
        body,
        headers: { Cookie: cookie, Origin: "https://evil.example" },
      }),
      403,
      "forbidden",
    );
    const viaReferer = await app.call("POST", "/v1/tokens", {
      body,
      headers: { Cookie: cookie, Referer: `${ORIGIN}/dashboard` },
    });
    assert.equal(viaReferer.status, 201);
    const ok = await app.call("POST", "/v1/tokens", {
      body,
      headers: { Cookie: cookie, Origin: ORIGIN },
    });
    assert.equal(ok.status, 201);
    assertError(
      await app.call("POST", "/v1/login", {
        body: creds,
        headers: { Origin: "https://evil.example" },
      }),
      403,
      "forbidden",
    );
  });

  await t.step("POST /v1/login and /v1/logout", async () => {
    const res = await app.call("POST", "/v1/login", { body: creds });
    assert.equal(res.status, 200);
    const c2 = res.headers.get("set-cookie")!.split(";")[0]!;
    const out = await app.call("POST", "/v1/logout", { headers: { Cookie: c2, Origin: ORIGIN } });
    assert.equal(out.status, 200);
    assertError(
      await app.call("GET", "/v1/me", { headers: { Cookie: c2 } }),
      401,
      "unauthenticated",
    );
    assert.equal(
      (await app.call("GET", "/v1/me", { headers: { Cookie: cookie } })).status,
      200,
      "other sessions live on",
    );
  });

  await t.step("sessions expire", async () => {
    app.clock.advance(8 * 24 * 3600_000);
    assertError(
      await app.call("GET", "/v1/me", { headers: { Cookie: cookie } }),
      401,
      "unauthenticated",
    );
    app.clock.advance(-8 * 24 * 3600_000);
  });

  await t.step(
    "login is throttled after 5 failures for one email, even with the right password",
    async () => {
      for (let i = 0; i < 5; i++) {
        assertError(
          await app.call("POST", "/v1/login", { body: { ...creds, password: "wrong password!" } }),
          401,
          "unauthenticated",
        );
      }
      const blocked = await app.call("POST", "/v1/login", { body: creds });
      assertError(blocked, 429, "rate_limited");
      assert.ok(Number(blocked.headers.get("retry-after")) > 0);
      app.clock.advance(16 * 60_000);
      assert.equal((await app.call("POST", "/v1/login", { body: creds })).status, 200);
    },
  );
});

Deno.test("[e2e] developer access tokens", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const me = await app.call("GET", "/v1/me", { key: dev.dat });
  assert.equal(me.status, 200);
  const list = await app.call("GET", "/v1/tokens", { key: dev.dat });
  assert.equal(list.body.tokens.length, 1);
  assert.equal(list.body.tokens[0].hash, undefined);
  assert.ok(dev.dat.startsWith(list.body.tokens[0].prefix));
  const stored = JSON.stringify(await Array.fromAsync(app.kv.list({ prefix: [] }), (e) => e.value));
  assert.ok(!stored.includes(dev.dat), "the token secret is not stored");
  assert.ok(stored.includes(await sha256Hex(dev.dat)));
  const del = await app.call("DELETE", `/v1/tokens/${list.body.tokens[0].id}`, { key: dev.dat });
  assert.equal(del.status, 200);
  assertError(await app.call("GET", "/v1/me", { key: dev.dat }), 401, "unauthenticated");
  assertError(await app.call("GET", "/v1/me", { key: "dat_nope" }), 401, "unauthenticated");
  assertError(
    await app.call("POST", "/v1/tokens", { key: "sk_test_abc", body: { name: "x" } }),
    401,
    "unauthenticated",
  );
});

Deno.test("[e2e] projects and tiers", async (t) => {
  await using app = await testApp();
  const dev = await developer(app);
  const other = await developer(app);
  const keys = await project(app, dev.dat, { name: "Weather API" });

  await t.step(
    "POST /v1/projects returns pk_test_/sk_test_ once and stores only the hash",
    async () => {
      assert.match(keys.pk, /^pk_test_[0-9A-Za-z]{24}$/);
      assert.match(keys.sk, /^sk_test_[0-9A-Za-z]{32}$/);
      assert.equal(keys.body.project.mode, "test");
      assert.equal(keys.body.project.tiers.length, 3);
      const stored = await getProject(app.kv, keys.pk);
      assert.equal(stored!.secretHash, await sha256Hex(keys.sk));
      assert.ok(!JSON.stringify(stored).includes(keys.sk));
      const read = await app.call("GET", `/v1/projects/${keys.pk}`, { key: dev.dat });
      assert.equal(read.status, 200);
      assert.equal(read.body.project.secretKey, undefined);
      assert.equal(read.body.project.secretHash, undefined);
    },
  );

  await t.step("project creation refuses bad input and creates nothing", async () => {
    const bad = [
      { name: "x", type: "saas", tiers: [] },
      { name: "x", type: "other", tiers: SAAS_TIERS },
      { name: "", type: "saas", tiers: SAAS_TIERS },
      { name: "x", type: "saas", tiers: [{ name: "Free Tier", price: 0 }] },
      { name: "x", type: "saas", tiers: [{ name: "free", price: -1 }] },
      { name: "x", type: "saas", tiers: [{ name: "free", price: 9.99 }] },
      { name: "x", type: "saas", tiers: [{ name: "free", price: 0, limit: -1 }] },
      { name: "x", type: "saas", tiers: [{ name: "free", price: 0, currency: "USD" }] },
      { name: "x", type: "saas", tiers: [{ name: "free", price: 0, inventory: 4 }] },
      { name: "x", type: "store", tiers: [{ name: "mug", price: 100, limit: 4 }] },
    ];
    for (const body of bad) {
      assertError(
        await app.call("POST", "/v1/projects", { key: dev.dat, body }),
        422,
        "validation_failed",
      );
    }
    assertError(
      await app.call("POST", "/v1/projects", {
        key: dev.dat,
        body: {
          name: "x",
          type: "saas",
          tiers: [{ name: "a", price: 0 }, { name: "a", price: 5 }],
        },
      }),
      409,
      "conflict",
    );
    const list = await app.call("GET", "/v1/projects", { key: dev.dat });
    assert.equal(list.body.projects.length, 1);
    assert.equal(list.body.projects[0].name, "Weather API");
  });

  await t.step("PATCH /v1/projects/:pk renames; the type is locked", async () => {
    const res = await app.call("PATCH", `/v1/projects/${keys.pk}`, {
      key: dev.dat,
      body: { name: "Weather" },
    });
    assert.equal(res.status, 200);
    assert.equal(res.body.project.name, "Weather");
    assertError(
      await app.call("PATCH", `/v1/projects/${keys.pk}`, { key: dev.dat, body: { type: "store" } }),
      403,
      "forbidden",
    );
    assert.equal((await getProject(app.kv, keys.pk))!.type, "saas");
  });

  await t.step("another developer's project is 403; an unknown one 404", async () => {
    assertError(
      await app.call("GET", `/v1/projects/${keys.pk}`, { key: other.dat }),
      403,
      "forbidden",
    );
    assertError(
      await app.call("PATCH", `/v1/projects/${keys.pk}`, {
        key: other.dat,
        body: { name: "mine" },
      }),
      403,
      "forbidden",
    );
    assertError(
      await app.call("POST", `/v1/projects/${keys.pk}/tiers`, {
        key: other.dat,
        body: { name: "x", price: 0 },
      }),
      403,
      "forbidden",
    );
    assertError(
      await app.call("GET", `/v1/projects/pk_test_${"0".repeat(24)}`, { key: dev.dat }),
      404,
      "not_found",
    );
    assert.equal(
      (await app.call("GET", "/v1/projects", { key: other.dat })).body.projects.length,
      0,
    );
  });

  await t.step(
    "tier CRUD changes prices, limits, order and popular without re-keying",
    async () => {
      const add = await app.call("POST", `/v1/projects/${keys.pk}/tiers`, {
        key: dev.dat,
        body: { name: "scale", price: 9900, limit: 100000, features: ["SLA"] },
      });
      assert.equal(add.status, 201);
      assert.equal(add.body.tier.displayName, "Scale");
      assertError(
        await app.call("POST", `/v1/projects/${keys.pk}/tiers`, {
          key: dev.dat,
          body: { name: "pro", price: 1 },
        }),
        409,
        "conflict",
      );
      const edit = await app.call("PATCH", `/v1/projects/${keys.pk}/tiers/pro`, {
        key: dev.dat,
        body: { price: 2900, limit: 500, popular: false, position: 0, features: ["500 calls"] },
      });
      assert.equal(edit.status, 200);
      assert.equal(edit.body.tier.price, 2900);
      assert.equal(edit.body.tier.limit, 500);
      const tiers = await app.call("GET", "/api/tiers", { key: keys.pk });
      assert.deepEqual(tiers.body.tiers.map((x: { name: string }) => x.name), [
        "pro",
        "free",
        "team",
        "scale",
      ]);
      assertError(
        await app.call("PATCH", `/v1/projects/${keys.pk}/tiers/pro`, {
          key: dev.dat,
          body: { limit: -5 },
        }),
        422,
        "validation_failed",
      );
      assertError(
        await app.call("PATCH", `/v1/projects/${keys.pk}/tiers/pro`, {
          key: dev.dat,
          body: { name: "free" },
        }),
        409,
        "conflict",
      );
      assertError(
        await app.call("PATCH", `/v1/projects/${keys.pk}/tiers/nope`, {
          key: dev.dat,
          body: { price: 1 },
        }),
        404,
        "not_found",
      );
      const del = await app.call("DELETE", `/v1/projects/${keys.pk}/tiers/scale`, { key: dev.dat });
      assert.equal(del.status, 200);
      assertError(
        await app.call("DELETE", `/v1/projects/${keys.pk}/tiers/scale`, { key: dev.dat }),
        404,
        "not_found",
      );
      // keys unchanged
      assert.equal((await app.call("GET", "/api/dashboard", { key: keys.sk })).status, 200);
    },
  );

  await t.step("a tier limit edit is seen by the usage API at once", async () => {
    const h = { "X-User-Id": "limit_user" };
    for (let i = 0; i < 5; i++) {
      assert.equal((await app.call("POST", "/api/data", { key: keys.sk, headers: h })).status, 200);
    }
    assert.equal((await app.call("POST", "/api/data", { key: keys.sk, headers: h })).status, 429);
    await app.call("PATCH", `/v1/projects/${keys.pk}/tiers/free`, {
      key: dev.dat,
      body: { limit: 7 },
    });
    const r = await app.call("POST", "/api/data", { key: keys.sk, headers: h });
    assert.equal(r.status, 200);
    assert.equal(r.body.usage.limit, 7);
  });

  await t.step("renaming a tier keeps its customers on it", async () => {
    await app.call("PATCH", `/v1/projects/${keys.pk}/tiers/free`, {
      key: dev.dat,
      body: { name: "starter" },
    });
    const u = await app.call("GET", "/api/usage", {
      key: keys.sk,
      headers: { "X-User-Id": "limit_user" },
    });
    assert.equal(u.body.usage.plan, "starter");
    assert.equal(u.body.usage.limit, 7);
  });

  await t.step(
    "a SaaS project's last tier can't be deleted; a store may open empty and run out of products",
    async () => {
      const solo = await project(app, dev.dat, {
        name: "Solo",
        tiers: [{ name: "only", price: 0 }],
      });
      assertError(
        await app.call("DELETE", `/v1/projects/${solo.pk}/tiers/only`, { key: dev.dat }),
        409,
        "conflict",
      );
      assertError(
        await app.call("POST", "/v1/projects", {
          key: dev.dat,
          body: { name: "No", type: "saas" },
        }),
        422,
        "validation_failed",
      );
      const shop = await app.call("POST", "/v1/projects", {
        key: dev.dat,
        body: { name: "Shop", type: "store" },
      });
      assert.equal(shop.status, 201, shop.text);
      const pk = shop.body.publishableKey;
      assert.deepEqual((await app.call("GET", "/api/products", { key: pk })).body.products, []);
      const added = await app.call("POST", `/v1/projects/${pk}/tiers`, {
        key: dev.dat,
        body: { name: "mug", price: 1200, inventory: 2 },
      });
      assert.equal(added.status, 201, added.text);
      const gone = await app.call("DELETE", `/v1/projects/${pk}/tiers/mug`, { key: dev.dat });
      assert.equal(gone.status, 200, gone.text);
      assert.deepEqual((await app.call("GET", "/api/products", { key: pk })).body.products, []);
    },
  );

  await t.step("dashboard, customers (cursor pages) and usage series", async () => {
    for (let i = 0; i < 7; i++) {
      await app.call("POST", "/api/customers", { key: keys.sk, body: { id: `page_${i}` } });
    }
    const dash = await app.call("GET", `/v1/projects/${keys.pk}/dashboard`, { key: dev.dat });
    assert.equal(dash.status, 200);
    assert.equal(dash.body.customers, 8);
    assert.equal(dash.body.usageThisPeriod, 6);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const page = await app.call("GET", `/v1/projects/${keys.pk}/customers${q}`, { key: dev.dat });
      assert.equal(page.status, 200);
      assert.ok(page.body.customers.length <= 3);
      seen.push(...page.body.customers.map((c: { id: string }) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ["limit_user", ...Array.from({ length: 7 }, (_, i) => `page_${i}`)]);
    assertError(
      await app.call("GET", `/v1/projects/${keys.pk}/customers?limit=0`, { key: dev.dat }),
      422,
      "validation_failed",
    );
    const series = await app.call(
      "GET",
      `/v1/projects/${keys.pk}/usage?from=2026-11-20&to=2026-11-25`,
      { key: dev.dat },
    );
    assert.equal(series.status, 200);
    assert.deepEqual(series.body.series.map((r: { count: number }) => r.count), [0, 0, 0, 0, 6, 0]);
    assertError(
      await app.call("GET", `/v1/projects/${keys.pk}/usage?from=yesterday`, { key: dev.dat }),
      422,
      "validation_failed",
    );
    assertError(
      await app.call("GET", `/v1/projects/${keys.pk}/dashboard`, { key: other.dat }),
      403,
      "forbidden",
    );
  });
});

Deno.test("[e2e] many creations at once on one project: every tier, code and endpoint is made, none past its bound", async () => {
  await using app = await testApp({ config: { webhookAllowPrivate: true } });
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  const many = <T>(n: number, f: (i: number) => Promise<T>) =>
    Promise.all(Array.from({ length: n }, (_, i) => f(i)));
  const statuses = (rs: { status: number }[]) => rs.map((r) => r.status).sort().join();
  // a script adding in parallel: once, most of these lost their checked commits to each other (409)
  const tiers = await many(30, (i) =>
    app.call("POST", `/v1/projects/${pk}/tiers`, {
      key: dev.dat,
      body: { name: `t${i}`, price: 100 + i, limit: 10 },
    }));
  assert.equal(statuses(tiers), Array(30).fill(201).join());
  const codes = await many(30, (i) =>
    app.call("POST", `/v1/projects/${pk}/coupons`, {
      key: dev.dat,
      body: { code: `CODE${i}`, percentOff: 10, duration: "once" },
    }));
  assert.equal(statuses(codes), Array(30).fill(201).join());
  // the bound is counted on the record being written, so concurrent creations can't pass it
  const hooks = await many(25, (i) =>
    app.call("POST", `/v1/projects/${pk}/webhooks`, {
      key: dev.dat,
      body: { url: `http://127.0.0.1:9/h${i}` },
    }));
  assert.equal(hooks.filter((r) => r.status === 201).length, 10);
  assert.ok(hooks.every((r) => r.status === 201 || r.status === 409));
  const got = (await app.call("GET", `/v1/projects/${pk}`, { key: dev.dat })).body.project;
  assert.equal(got.tiers.length, 31);
  assert.equal(
    (await app.call("GET", `/v1/projects/${pk}/webhooks`, { key: dev.dat })).body.endpoints.length,
    10,
  );
  assert.equal(
    (await app.call("GET", `/v1/projects/${pk}/coupons`, { key: dev.dat })).body.coupons.length,
    30,
  );
});

Deno.test("[e2e] a misspelt field of a tier or a new project is 422, never its default", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 5 }] });
  // `limt` was dropped and the tier made unlimited; `curency` fixed the project in usd for good
  const tier = await app.call("POST", `/v1/projects/${pk}/tiers`, {
    key: dev.dat,
    body: { name: "pro", price: 1900, limt: 5 },
  });
  assertError(tier, 422, "validation_failed");
  assert.match(tier.body.error.message, /limt/);
  const patch = await app.call("PATCH", `/v1/projects/${pk}/tiers/free`, {
    key: dev.dat,
    body: { limt: 50 },
  });
  assertError(patch, 422, "validation_failed");
  const made = await app.call("POST", "/v1/projects", {
    key: dev.dat,
    body: { name: "Euro", type: "saas", curency: "eur", tiers: [{ name: "free", price: 0 }] },
  });
  assertError(made, 422, "validation_failed");
  const p = (await app.call("GET", `/v1/projects/${pk}`, { key: dev.dat })).body.project;
  assert.deepEqual(p.tiers.map((t: { name: string; limit: number }) => [t.name, t.limit]), [[
    "free",
    5,
  ]]);
  assert.equal((await app.call("GET", "/v1/projects", { key: dev.dat })).body.projects.length, 1);
});
