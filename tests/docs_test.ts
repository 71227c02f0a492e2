/** /docs: the API reference from /openapi.json, self-contained. */
import assert from "node:assert/strict";
import { testApp } from "@/tests/helpers.ts";

Deno.test("GET /docs renders every documented operation with getting started, and loads nothing external", async () => {
  await using app = await testApp();
  const res = await app.call("GET", "/docs");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /text\/html/);
  const doc = (await app.call("GET", "/openapi.json")).body;
  for (
    const [path, methods] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)
  ) {
    for (const m of Object.keys(methods)) {
      assert.ok(
        res.text.includes(`${m.toUpperCase()} ${path.replaceAll("{", "{")}`),
        `${m} ${path}`,
      );
    }
  }
  assert.match(res.text, /Getting started/);
  assert.match(res.text, /tier_limit_reached/);
  const external = [...res.text.matchAll(/(?:src|href)="(https?:[^"]+)"/g)].map((m) => m[1]);
  assert.deepEqual(external.filter((u) => !u!.startsWith("http://localhost")), [], "no CDN");
  assert.ok(!res.text.includes("<script"), "a static page");
});

Deno.test("/docs renders the descriptions' Markdown (no literal backticks, HTML shown as text) and says X-User-Id is required with a secret key", async () => {
  await using app = await testApp();
  const res = await app.call("GET", "/docs");
  assert.equal(res.status, 200);
  assert.equal((res.text.match(/`/g) ?? []).length, 0);
  assert.match(res.text, /<code>Idempotency-Key<\/code>|<code>X-User-Id<\/code>/);
  assert.match(res.text, /<td>with a secret key<\/td>/);
  const { Md } = await import("@/components/Markdown.tsx");
  const { renderToString } = await import("preact-render-to-string");
  assert.equal(
    renderToString(Md({ text: "use `a` <script>x</script>" })),
    "<span>use <code>a</code> &#60;script&#62;x&#60;/script&#62;</span>",
  );
});

Deno.test("/docs shows an example answer for successful responses, made from the schemas", async () => {
  await using app = await testApp();
  const res = await app.call("GET", "/docs");
  const usage = res.text.indexOf('id="post-api-data"');
  assert.ok(usage > 0);
  const section = res.text.slice(usage, res.text.indexOf("</section>", usage));
  assert.match(section, /<summary>Example<\/summary>/);
  const json = /<code>(\{[\s\S]*?\})<\/code>/.exec(section)![1]!
    .replaceAll("&quot;", '"').replaceAll("&#34;", '"');
  const example = JSON.parse(json);
  assert.equal(example.success, true);
  assert.equal(typeof example.usage.count, "number");
  assert.equal(example.usage.userId, "user_42", "the schema's own example is used");
  const { exampleOf } = await import("@/routes/docs.tsx");
  assert.deepEqual(
    exampleOf({}, {
      type: "object",
      properties: {
        a: { type: "string", format: "date-time" },
        b: { anyOf: [{ type: "null" }, { type: "integer" }] },
        c: { type: "array", items: { enum: ["x", "y"] } },
      },
    }),
    { a: "2026-11-24T12:00:00.000Z", b: 0, c: ["x"] },
  );
});
