/** [ops] GET /metrics: off without METRICS_TOKEN, Prometheus text for its bearer. */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { backgroundJobs } from "@/server/jobs.ts";

const TOKEN = "metrics-token-0123456789";

Deno.test("[ops] /metrics is off without METRICS_TOKEN and needs its bearer", async () => {
  await using off = await testApp();
  assert.equal((await off.call("GET", "/metrics")).status, 404);
  assert.equal(off.metrics, null);
  await using on = await testApp({ config: { metricsToken: TOKEN } });
  assert.equal((await on.call("GET", "/metrics")).status, 401);
  const wrong = await on.call("GET", "/metrics", { key: "wrong-token-0123456789" });
  assert.equal(wrong.status, 401);
  // the usual error JSON, with its request id (in the body and the header) and security headers
  assert.equal(wrong.body.error.code, "unauthenticated");
  assert.equal(wrong.body.message, "Bearer METRICS_TOKEN needed");
  assert.match(wrong.body.error.requestId, /^req_/);
  assert.equal(wrong.headers.get("x-request-id"), wrong.body.error.requestId);
  assert.equal(wrong.headers.get("x-content-type-options"), "nosniff");
  const ok = await on.call("GET", "/metrics", { key: TOKEN });
  assert.equal(ok.status, 200);
  assert.match(ok.headers.get("x-request-id") ?? "", /^req_/);

  // methods a client makes up share one label: no series per request
  for (let i = 0; i < 5; i++) await on.call(`M${i}X`, "/x");
  const text = (await on.call("GET", "/metrics", { key: TOKEN })).text;
  assert.doesNotMatch(text, /method="M\dX"/);
  assert.match(text, /dream_http_requests_total\{route="[^"]*",method="other",status="\d+"\} 5/);
});

Deno.test("[ops] /metrics: requests by route and status, meter batches and folds, cache hits, outbox depth, sweep lag, jobs", async () => {
  await using app = await testApp({
    // a fold after every batch, so that folds are seen too
    config: { metricsToken: TOKEN, webhookAllowPrivate: true, usageFoldRows: 1 },
  });
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { tiers: [{ name: "free", price: 0, limit: 3 }] });
  await app.call("POST", `/v1/projects/${pk}/webhooks`, {
    key: dev.dat,
    body: { url: "http://127.0.0.1:9/never" },
  });
  for (let i = 0; i < 5; i++) {
    await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "mo" } });
  }
  await app.call("GET", "/api/usage", { key: sk, headers: { "X-User-Id": "mo" } });
  await app.call("GET", `/v1/projects/${pk}`, { key: dev.dat });
  await app.services.meter.flush(); // the folds the batches started are done
  const sweep = backgroundJobs(app).find((j) => j.name === "sweep-holds")!;
  await sweep.run();
  const r = await app.call("GET", "/metrics", { key: TOKEN });
  assert.equal(r.status, 200);
  assert.match(r.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  const text = r.text;
  // every line is a comment or `name{labels} value` (the exposition format)
  for (const line of text.split("\n").filter(Boolean)) {
    assert.match(
      line,
      /^(# (HELP|TYPE) \w+ .+|\w+(\{(\w+="[^"]*",?)*\})? -?[\d.e+-]+|\w+(\{.*\})? (NaN|\+Inf))$/,
      line,
    );
  }
  const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? NaN);
  assert.equal(
    value(/dream_http_requests_total\{route="\/api\/data",method="POST",status="200"\} (\d+)/) +
      0,
    3,
  );
  assert.equal(
    value(/dream_http_requests_total\{route="\/api\/data",method="POST",status="429"\} (\d+)/),
    2,
  );
  assert.ok(
    value(
      /dream_http_requests_total\{route="\/v1\/projects\/:pk",method="GET",status="200"\} (\d+)/,
    ) >= 1,
  );
  assert.ok(value(/dream_meter_batch_size_count (\d+)/) >= 3);
  assert.ok(value(/dream_meter_commit_seconds_count (\d+)/) >= 3);
  assert.ok(value(/dream_meter_fold_seconds_count (\d+)/) >= 1);
  assert.ok(value(/dream_meter_folded_rows_total (\d+)/) >= 1);
  assert.equal(value(/dream_meter_unfolded_rows (\d+)/), 0, "everything folded");
  assert.match(text, /dream_cache_hit_ratio\{cache="customers"\} [\d.]+/);
  assert.ok(
    value(/dream_webhook_outbox_depth\{kind="events"\} (\d+)/) >= 1,
    "customer.created waits",
  );
  assert.match(text, /dream_reservation_sweep_lag_seconds 0/);
  assert.ok(value(/dream_job_duration_seconds_count\{job="sweep-holds"\} (\d+)/) >= 1);
});
