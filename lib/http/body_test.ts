import assert from "node:assert/strict";
import { readTextLimited } from "@/lib/http/body.ts";

const stream = (...parts: string[]) =>
  new ReadableStream<Uint8Array>({
    start(c) {
      for (const p of parts) c.enqueue(new TextEncoder().encode(p));
      c.close();
    },
  });
const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request("http://x/api/data", { method: "POST", body, headers });

Deno.test("readTextLimited: declared lengths and streamed bodies, within and past the limit", async () => {
  assert.equal(await readTextLimited(post('{"quantity":2}'), 100), '{"quantity":2}');
  assert.equal(await readTextLimited(post("abc", { "Content-Length": "3" }), 100), "abc");
  assert.equal(await readTextLimited(post("x".repeat(101)), 100), null, "declared past the limit");
  assert.equal(
    await readTextLimited(post("y", { "Content-Length": "500" }), 100),
    null,
    "a declared length past the limit is refused before reading",
  );
  assert.equal(await readTextLimited(post(stream('{"a":', "1}")), 100), '{"a":1}');
  assert.equal(await readTextLimited(post(stream("x".repeat(60), "x".repeat(60))), 100), null);
  assert.equal(await readTextLimited(new Request("http://x/api/data"), 100), "");
});
