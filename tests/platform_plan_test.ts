/** [e2e] the developer's platform plan, priced by the operator, paid through the sandbox. */
import assert from "node:assert/strict";
import { developer, ORIGIN, testApp } from "@/tests/helpers.ts";
import { requirePlatformPlan } from "@/lib/billing/platform.ts";
import { getDeveloper } from "@/lib/kv/developers.ts";

Deno.test("[e2e] POST /v1/billing/checkout: off when unpriced; when priced, paying activates the plan", async () => {
  await using off = await testApp();
  const d0 = await developer(off);
  const res0 = await off.call("POST", "/v1/billing/checkout", { key: d0.dat });
  assert.equal(res0.status, 404);

  await using app = await testApp({ config: { platformPriceCents: 1500 } });
  const dev = await developer(app);
  const before = (await getDeveloper(app.kv, dev.platformId))!;
  assert.throws(() => requirePlatformPlan(app.services, before), /platform plan/);
  const res = await app.call("POST", "/v1/billing/checkout", {
    headers: { Cookie: dev.cookie, Origin: ORIGIN },
  });
  assert.equal(res.status, 200, res.text);
  const page = await app.call("GET", new URL(res.body.url).pathname);
  assert.match(page.text, /\$15\.00/);
  const done = await app.call("POST", new URL(res.body.url).pathname + "/complete");
  assert.equal(done.status, 200, done.text);
  const me = await app.call("GET", "/v1/me", { key: dev.dat });
  assert.equal(me.body.developer.planStatus, "active");
  requirePlatformPlan(app.services, (await getDeveloper(app.kv, dev.platformId))!);
  assert.equal((await app.call("POST", "/v1/billing/checkout", { key: dev.dat })).status, 409);
  assert.equal(
    (await app.call("POST", "/v1/billing/checkout", { headers: { Cookie: dev.cookie } })).status,
    403,
    "CSRF",
  );
});
