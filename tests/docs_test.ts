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
