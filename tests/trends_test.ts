/** [e2e] The daily trends: usage, MRR by day, revenue net of refunds, customers, subscriptions. */
import assert from "node:assert/strict";
import { developer, project, servePort, testApp } from "@/tests/helpers.ts";

const urls = { successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" };
const DAY = 86_400_000;

Deno.test("[e2e] trends: SaaS days carry usage, new customers, subscriptions and MRR as it was", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {
    tiers: [{ name: "free", price: 0, limit: 100 }, { name: "pro", price: 1900, limit: 1000 }],
  });
  const day = () => new Date(app.clock.now()).toISOString().slice(0, 10);
  const subscribe = async (id: string) => {
    const co = await srv.call("POST", "/api/create-checkout", {
      key: sk,
      headers: { "X-User-Id": id },
      body: { tier: "pro", ...urls },
    });
    assert.equal(co.status, 200, co.text);
    await srv.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
  };
  const d1 = day();
  await srv.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "a" } });
  await srv.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "b" } });
  await subscribe("a");
  app.clock.advance(DAY);
  const d2 = day();
  await subscribe("b");
  app.clock.advance(DAY);
  const d3 = day();
  const cancel = await srv.call("POST", `/v1/projects/${pk}/customers/a/subscription/cancel`, {
    key: dev.dat,
    body: {},
  });
  assert.equal(cancel.status, 200, cancel.text);
  const res = await srv.call("GET", `/v1/projects/${pk}/metrics?from=${d1}&to=${d3}`, {
    key: dev.dat,
  });
  assert.equal(res.status, 200, res.text);
  const byDay = Object.fromEntries(res.body.days.map((d: { date: string }) => [d.date, d]));
  assert.deepEqual(Object.keys(byDay), [d1, d2, d3]);
  assert.equal(byDay[d1].usage, 2);
  assert.equal(byDay[d1].newCustomers, 2);
  assert.equal(byDay[d1].newSubscriptions, 1);
  assert.equal(byDay[d1].mrr, 1900, "MRR at the end of day 1");
  assert.equal(byDay[d2].newSubscriptions, 1);
  assert.equal(byDay[d2].mrr, 3800);
  assert.equal(byDay[d3].canceledSubscriptions, 1);
  assert.equal(byDay[d3].mrr, 1900);
  // a window that starts after the moves still gives the MRR of its days
  const later = await srv.call("GET", `/v1/projects/${pk}/metrics?from=${d3}&to=${d3}`, {
    key: dev.dat,
  });
  assert.equal(later.body.days[0].mrr, 1900);
  const before = await srv.call("GET", `/v1/projects/${pk}/metrics?from=2026-01-01&to=2026-01-02`, {
    key: dev.dat,
  });
  assert.deepEqual(before.body.days.map((d: { mrr: number }) => d.mrr), [0, 0]);
  assert.equal(
    (await srv.call("GET", `/v1/projects/${pk}/metrics?from=bad`, { key: dev.dat })).status,
    422,
  );
  // a day that is not on the calendar is named as such (Date.parse reads 02-30 as March 2)
  const feb30 = await srv.call("GET", `/v1/projects/${pk}/metrics?from=2026-02-30&to=2026-03-05`, {
    key: dev.dat,
  });
  assert.equal(feb30.status, 422, feb30.text);
  assert.equal(feb30.body.error.message, "Invalid from: expected YYYY-MM-DD");
  // a range long ago: MRR is walked back over the range's days only (it took seconds for year 1)
  const ancient = await srv.call(
    "GET",
    `/v1/projects/${pk}/metrics?from=0001-01-01&to=0001-01-02`,
    {
      key: dev.dat,
    },
  );
  assert.equal(ancient.status, 200, ancient.text);
  assert.deepEqual(
    ancient.body.days.map((d: { date: string; mrr: number }) => [d.date, d.mrr]),
    [["0001-01-01", 0], ["0001-01-02", 0]],
  );
  const other = await developer(app);
  assert.equal(
    (await srv.call("GET", `/v1/projects/${pk}/metrics`, { key: other.dat })).status,
    403,
  );
});

Deno.test("[e2e] trends: a Store's revenue by day is net of that day's refunds", async () => {
  await using app = await testApp();
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1000, inventory: null }],
  });
  const mug = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
  const co = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: { ...urls, items: [{ productId: mug.id, quantity: 3 }] },
  });
  await srv.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
  const d1 = new Date(app.clock.now()).toISOString().slice(0, 10);
  app.clock.advance(DAY);
  const d2 = new Date(app.clock.now()).toISOString().slice(0, 10);
  const r = await srv.call("POST", `/v1/projects/${pk}/orders/${co.body.reservationId}/refund`, {
    key: dev.dat,
    body: { amount: 1000 },
  });
  assert.equal(r.status, 200, r.text);
  const days = (await srv.call("GET", `/v1/projects/${pk}/metrics?from=${d1}&to=${d2}`, {
    key: dev.dat,
  })).body.days;
  assert.deepEqual(days.map((d: { revenue: number }) => d.revenue), [3000, -1000]);
});

Deno.test("[e2e] the overview charts: usage and MRR (SaaS), revenue (Store), with 7/30/90-day and custom ranges", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {});
  await app.call("POST", "/api/data", { key: sk, headers: { "X-User-Id": "a" } });
  const h = { Cookie: dev.cookie, Accept: "text/html" };
  const rows = (html: string, prefix: string) =>
    (html.match(new RegExp(`data-testid="${prefix}-\\d{4}-\\d{2}-\\d{2}"`, "g")) ?? []).length;
  const today = new Date(app.clock.now()).toISOString().slice(0, 10);
  for (const [q, n] of [["", 30], ["?range=7", 7], ["?range=90", 90]] as const) {
    const page = await app.call("GET", `/dashboard/projects/${pk}${q}`, { headers: h });
    assert.equal(page.status, 200);
    assert.equal(rows(page.text, "usage"), n, q);
    assert.equal(rows(page.text, "mrr"), n, q);
  }
  const custom = await app.call(
    "GET",
    `/dashboard/projects/${pk}?from=2026-11-20&to=${today}`,
    { headers: h },
  );
  assert.match(custom.text, new RegExp(`data-testid="usage-${today}">1<`));
  assert.match(custom.text, /data-testid="usage-2026-11-20"/);
  assert.equal(
    (await app.call("GET", `/dashboard/projects/${pk}?from=nope`, { headers: h })).status,
    422,
  );
  const store = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "x", price: 500, inventory: null }],
  });
  const sp = await app.call("GET", `/dashboard/projects/${store.pk}?range=7`, { headers: h });
  assert.equal(rows(sp.text, "revenue"), 7);
  assert.match(sp.text, /Revenue per day, 7 days: \$0\.00 in all/);
});
