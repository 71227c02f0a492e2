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
