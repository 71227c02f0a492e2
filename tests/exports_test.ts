/** [e2e] CSV exports: RFC 4180, every row across pages, formula cells defused, scoped. */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { safeCell } from "@/lib/dashboard/exports.ts";

/** A small RFC 4180 reader for the test (quoted fields, doubled quotes, CRLF records). */
function parse(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = "", quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"', i++);
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") (row.push(cell), cell = "");
    else if (ch === "\r" && text[i + 1] === "\n") {
      (row.push(cell), rows.push(row), row = [], cell = "", i++);
    } else cell += ch;
  }
  return rows;
}

Deno.test("safeCell defuses formula triggers and leaves the rest", () => {
  assert.equal(safeCell("=SUM(A1)"), "'=SUM(A1)");
  assert.equal(safeCell("+1"), "'+1");
  assert.equal(safeCell("-2"), "'-2");
  assert.equal(safeCell("@cmd"), "'@cmd");
  assert.equal(safeCell("\tx"), "'\tx");
  assert.equal(safeCell("plain"), "plain");
  assert.equal(safeCell(12), "12");
  assert.equal(safeCell(null), "");
});

Deno.test("[e2e] customers.csv and events.csv: all rows over several pages, quoting, formulas, scope", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, {});
  for (let i = 0; i < 230; i++) {
    await app.call("POST", "/api/customers", {
      key: sk,
      body: { id: `c${String(i).padStart(3, "0")}` },
    });
  }
  await app.call("POST", "/api/customers", {
    key: sk,
    body: {
      id: "evil",
      name: '=HYPERLINK("http://x","y"), "quoted"\nline',
      email: "e@example.com",
    },
  });
  const res = await app.call("GET", `/v1/projects/${pk}/customers.csv`, { key: dev.dat });
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/csv/);
  assert.match(res.headers.get("content-disposition") ?? "", /attachment; filename="customers-/);
  assert.match(res.headers.get("x-request-id") ?? "", /^req_/, "every answer has its request id");
  assert.ok(res.text.endsWith("\r\n"));
  const rows = parse(res.text);
  assert.deepEqual(rows[0], [
    "id",
    "email",
    "name",
    "plan",
    "subscription_status",
    "usage",
    "limit",
    "created_at",
  ]);
  assert.equal(rows.length, 1 + 231);
  assert.equal(new Set(rows.slice(1).map((r) => r[0])).size, 231);
  const evil = rows.find((r) => r[0] === "evil")!;
  assert.equal(evil[2], `'=HYPERLINK("http://x","y"), "quoted"\nline`);
  assert.equal(evil[1], "e@example.com");

  const events = await app.call("GET", `/v1/projects/${pk}/events.csv`, { key: dev.dat });
  assert.equal(events.status, 200);
  assert.deepEqual(parse(events.text)[0], [
    "id",
    "type",
    "created_at",
    "summary",
    "outcome",
    "actor",
  ]);

  const other = await developer(app);
  assert.equal(
    (await app.call("GET", `/v1/projects/${pk}/customers.csv`, { key: other.dat })).status,
    403,
  );
  assert.equal(
    (await app.call("GET", `/v1/projects/${pk}/customers.csv`, { key: sk })).status,
    401,
  );
  assert.equal(
    (await app.call("GET", `/v1/projects/${pk}/orders.csv`, { key: dev.dat })).status,
    403,
  );
  const page = await app.call("GET", `/dashboard/projects/${pk}/customers`, {
    headers: { Cookie: dev.cookie, Accept: "text/html" },
  });
  assert.match(page.text, new RegExp(`href="/v1/projects/${pk}/customers.csv"`));
  const viaCookie = await app.call("GET", `/v1/projects/${pk}/customers.csv`, {
    headers: { Cookie: dev.cookie },
  });
  assert.equal(viaCookie.status, 200, "the dashboard's download link works with the session");
});

Deno.test("[e2e] orders.csv lists paid orders with their items", async () => {
  await using app = await testApp();
  const { servePort } = await import("@/tests/helpers.ts");
  await using srv = servePort(app);
  const dev = await developer(app);
  const { pk } = await project(app, dev.dat, {
    type: "store",
    tiers: [{ name: "mug", price: 1200, inventory: 5 }],
  });
  const mug = (await srv.call("GET", "/api/products", { key: pk })).body.products[0];
  const co = await srv.call("POST", "/api/cart/checkout", {
    key: pk,
    body: {
      items: [{ productId: mug.id, quantity: 2 }],
      email: "o@example.com",
      name: "-Neg Name",
      successUrl: "https://s.example/ok",
      cancelUrl: "https://s.example/no",
    },
  });
  await srv.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
  const res = await srv.call("GET", `/v1/projects/${pk}/orders.csv`, { key: dev.dat });
  assert.equal(res.status, 200);
  const rows = parse(res.text);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[1]!.slice(1, 8), [
    "paid",
    "o@example.com",
    "'-Neg Name",
    "2 x mug",
    "2400",
    "0",
    "usd",
  ]);
});

Deno.test("[e2e] pages, styles, the API description and exports are gzip-compressed; the customer API is not", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { sk } = await project(app, dev.dat, {});
  const gz = { "Accept-Encoding": "gzip, deflate, br" };
  for (const path of ["/static/app.css", "/openapi.json", "/"]) {
    const res = await app.fetch(new Request(`http://localhost${path}`, { headers: gz }));
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get("content-encoding"), "gzip", path);
    const plain = await new Response(res.body!.pipeThrough(new DecompressionStream("gzip"))).text();
    assert.ok(plain.length > 1024, path);
  }
  const api = await app.fetch(
    new Request("http://localhost/api/tiers", {
      headers: { ...gz, Authorization: `Bearer ${sk}` },
    }),
  );
  assert.equal(api.status, 200);
  assert.equal(api.headers.get("content-encoding"), null);
  await api.body?.cancel();
});
