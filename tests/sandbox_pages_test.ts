/** [e2e] The sandbox's hosted pages speak for the merchant: its name, no platform links, the plan. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";

Deno.test("[e2e] sandbox checkout and portal name the merchant, show the plan and renewal, and offer only other plans", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, {
    name: "Weather API",
    tiers: [
      { name: "free", price: 0, limit: 5 },
      { name: "pro", displayName: "Pro", price: 1900, limit: 100 },
      { name: "team", displayName: "Team", price: 4900, limit: 1000 },
    ],
  });
  const h = { "X-User-Id": "u1" };
  const co = await srv.call("POST", "/api/create-checkout", {
    key: sk,
    headers: h,
    body: { tier: "pro", successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  const page = await (await fetch(co.body.url)).text();
  assert.match(page, /<span class="brand">Weather API<\/span>/);
  assert.doesNotMatch(page, /href="\/signin"|href="\/signup"|href="\/dashboard"/);
  await srv.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
  const portal = await srv.call("POST", "/api/customer-portal", {
    key: sk,
    headers: h,
    body: { returnUrl: "https://a.example/account" },
  });
  assert.equal(portal.status, 200, portal.text);
  const p = await (await fetch(portal.body.url)).text();
  assert.match(p, /<span class="brand">Weather API<\/span>/);
  assert.doesNotMatch(p, /href="\/signin"|href="\/signup"/);
  assert.match(p, /<strong>Pro<\/strong>/);
  assert.match(p, /renews on \d{1,2} [A-Z][a-z]{2} \d{4}/);
  assert.match(p, /<option value="team">/);
  assert.doesNotMatch(p, /<option value="pro">/, "the current plan is not offered as a switch");
});
