import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "@/lib/config.ts";

Deno.test("loadConfig() gives safe defaults for local use", () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.dataDir, "./data");
  assert.ok(c.rateLimitPerKey >= 1000);
  assert.ok(c.rateLimitPerCustomer >= 100);
  assert.equal(c.passwordIterations, 600_000);
  assert.ok(Object.isFrozen(c));
});

Deno.test("loadConfig() reads PORT, DATA_DIR and rate limits (0 turns a limit off)", () => {
  const c = loadConfig({
    PORT: "9000",
    DATA_DIR: "/tmp/x",
    RATE_LIMIT_PER_KEY: "0",
    RATE_LIMIT_PER_CUSTOMER: "7",
  });
  assert.equal(c.port, 9000);
  assert.equal(c.dataDir, "/tmp/x");
  assert.equal(c.rateLimitPerKey, 0);
  assert.equal(c.rateLimitPerCustomer, 7);
});

Deno.test("loadConfig() reads TRUST_PROXY as a number of proxies (true is one)", () => {
  assert.equal(loadConfig({}).trustProxy, 0);
  assert.equal(loadConfig({ TRUST_PROXY: "true" }).trustProxy, 1);
  assert.equal(loadConfig({ TRUST_PROXY: "false" }).trustProxy, 0);
  assert.equal(loadConfig({ TRUST_PROXY: "2" }).trustProxy, 2);
  assert.throws(() => loadConfig({ TRUST_PROXY: "yes" }), /TRUST_PROXY/);
});

Deno.test("loadConfig() stops on a wrong value, naming the variable", () => {
  assert.throws(
    () => loadConfig({ PORT: "eighty" }),
    (e) => e instanceof ConfigError && /PORT/.test(e.message),
  );
  assert.throws(() => loadConfig({ RATE_LIMIT_PER_KEY: "-1" }), /RATE_LIMIT_PER_KEY/);
  // a store hold lives as long as its Checkout session: 30 minutes to 24 hours at Stripe
  assert.throws(
    () => loadConfig({ RESERVATION_MINUTES: "2000" }),
    /RESERVATION_MINUTES must be an integer from 30 to 1440/,
  );
  assert.equal(loadConfig({ RESERVATION_MINUTES: "1440" }).reservationMinutes, 1440);
  for (const v of ["0", "1025", "two"]) {
    assert.throws(
      () => loadConfig({ WEBHOOK_CONCURRENCY: v }),
      /WEBHOOK_CONCURRENCY must be an integer from 1 to 1024/,
    );
  }
  assert.equal(loadConfig({ WEBHOOK_CONCURRENCY: "64" }).webhookConcurrency, 64);
  assert.equal(loadConfig({}).webhookConcurrency, 32);
  assert.throws(() => loadConfig({ PASSWORD_ITERATIONS: "1000" }), /PASSWORD_ITERATIONS/);
  assert.throws(() => loadConfig({ BASE_URL: "not a url" }), /BASE_URL/);
  assert.throws(() => loadConfig({ APP_SECRET: "short" }), /APP_SECRET/);
});
