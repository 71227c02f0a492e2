/**
 * [e2e] Customers made, edited and deleted in random order (ids and emails that share prefixes,
 * an id made again after its deletion, emails changed and cleared): after every step the list
 * (every page), each search by id or email prefix (every page of it: a search was cut at its
 * first page) and the dashboard's count are exactly the model's. Seeded (CUSTOMERS_SEED).
 */
import assert from "node:assert/strict";
import { developer, project, testApp } from "@/tests/helpers.ts";
import { prng } from "@/tests/prng.ts";

const SEED = Number(Deno.env.get("CUSTOMERS_SEED") ?? 20261206);
const STEPS = 150;
const IDS = ["al", "alex", "alexa", "bo", "bob", "bobby", "cy", "u.1", "u.10", "u:2"];
const EMAILS = ["al@x.io", "alex@x.io", "bo@y.io", "bob@y.io", "cy@z.io", "ALEX@q.io", null];

Deno.test("[e2e] customers made, edited and deleted at random: list, prefix search and count stay the model's", async () => {
  await using app = await testApp();
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat);
  const random = prng(SEED);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const model = new Map<string, string | null>(); // id → email
  const log: string[] = [];

  const actions: (() => Promise<void>)[] = [
    async () => {
      const id = pick(IDS);
      const email = pick(EMAILS);
      const r = await app.call("POST", "/api/customers", {
        key: sk,
        body: { id, ...(email ? { email } : {}) },
      });
      log.push(`create ${id} ${email}: ${r.status}`);
      assert.equal(r.status, model.has(id) ? 409 : 201, r.text);
      if (r.status === 201) model.set(id, email);
    },
    async () => {
      const id = pick(IDS);
      const email = pick(EMAILS);
      const r = await app.call("PATCH", `/api/customers/${id}`, { key: sk, body: { email } });
      log.push(`edit ${id} ${email}: ${r.status}`);
      assert.equal(r.status, model.has(id) ? 200 : 404, r.text);
      if (r.status === 200) model.set(id, email);
    },
    async () => {
      const id = pick(IDS);
      const r = await app.call("DELETE", `/api/customers/${id}`, { key: sk });
      log.push(`delete ${id}: ${r.status}`);
      assert.equal(r.status, model.has(id) ? 200 : 404, r.text);
      model.delete(id);
    },
  ];

  const list = async (q: string | null) => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams({ limit: "3" });
      if (q !== null) params.set("q", q);
      if (cursor) params.set("cursor", cursor);
      const r = await app.call("GET", `/v1/projects/${pk}/customers?${params}`, { key: dev.dat });
      assert.equal(r.status, 200, r.text);
      ids.push(...r.body.customers.map((c: { id: string }) => c.id));
      cursor = r.body.nextCursor;
    } while (cursor);
    return ids.sort();
  };
  for (let step = 0; step < STEPS; step++) {
    await pick([0, 0, 1, 2].map((i) => actions[i]!))();
    const context = `step ${step}, seed ${SEED}: ${log.slice(-4).join(" | ")}`;
    assert.deepEqual(await list(null), [...model.keys()].sort(), `list, ${context}`);
    for (const q of [pick(["a", "al", "alex", "b", "bob", "u.", "u.1", "x"]), pick(EMAILS)]) {
      if (!q) continue;
      const want = [...model].filter(([id, email]) =>
        id.toLowerCase().startsWith(q.toLowerCase()) ||
        (email ?? "").toLowerCase().startsWith(q.toLowerCase())
      ).map(([id]) => id).sort();
      assert.deepEqual(await list(q), want, `search ${q}, ${context}`);
    }
    const dash = (await app.call("GET", "/api/dashboard", { key: sk })).body;
    assert.equal(dash.customers, model.size, `count, ${context}`);
  }
  // the Customers page pages a search too, its Next link keeping the search
  for (let i = 0; i < 30; i++) {
    await app.call("POST", "/api/customers", { key: sk, body: { id: `zed${i}` } });
  }
  const page = (path: string) =>
    app.call("GET", path, { headers: { Cookie: dev.cookie, Accept: "text/html" } });
  const first = await page(`/dashboard/projects/${pk}/customers?q=zed`);
  assert.equal(first.status, 200);
  const next = /href="([^"]+)" rel="next"/.exec(first.text)?.[1]?.replaceAll("&amp;", "&");
  assert.ok(next?.includes("q=zed&cursor="), `next link: ${next}`);
  const second = await page(next!);
  const shown = (html: string) => (html.match(/>zed\d+</g) ?? []).length;
  assert.equal(shown(first.text) + shown(second.text), 30);

  // a search's cursor is the search's own: one it never gave out is 400
  for (const cursor of ["zz!!", "i%00", "e!!", "x"]) {
    const r = await app.call("GET", `/v1/projects/${pk}/customers?q=a&cursor=${cursor}`, {
      key: dev.dat,
    });
    assert.equal(r.status, 400, `${cursor}: ${r.text}`);
    assert.equal(r.body.error.code, "invalid_request");
  }
});
