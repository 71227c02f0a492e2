import assert from "node:assert/strict";
import { HeadersAdapter, headerSource } from "@/lib/http/request_headers.ts";

const NAMES = [
  "x-user-id",
  "X-User-Id",
  "authorization",
  "content-type",
  "x-empty",
  "x-spaced",
  "x-latin",
  "origin",
  "idempotency-key",
];

/** Sends raw HTTP/1.1 (repeated headers, odd spacing, a Latin-1 byte) and returns the body. */
async function rawGet(port: number, head: string): Promise<string> {
  const c = await Deno.connect({ port, hostname: "127.0.0.1" });
  const bytes = Uint8Array.from([...head].map((ch) => ch.charCodeAt(0)));
  await c.write(bytes);
  let out = "";
  const buf = new Uint8Array(8192);
  for (let n; (n = await c.read(buf)) !== null;) {
    out += new TextDecoder().decode(buf.subarray(0, n));
  }
  c.close();
  return out.slice(out.indexOf("\r\n\r\n") + 4);
}

Deno.test("headerSource reads a served request natively, exactly as Headers.get does", async () => {
  const seen: { native: boolean; ours: (string | null)[]; theirs: (string | null)[] }[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const src = headerSource(req);
    const ours = NAMES.map((n) => src.header(n)); // read before req.headers is ever touched
    seen.push({
      native: !(src instanceof HeadersAdapter),
      ours,
      theirs: NAMES.map((n) => req.headers.get(n)),
    });
    return new Response("ok");
  });
  try {
    const body = await rawGet(
      server.addr.port,
      "GET /x HTTP/1.1\r\nHost: a\r\nX-User-Id: u1\r\nx-user-id: u2\r\n" +
        "Authorization: Bearer a\r\nAUTHORIZATION: Bearer b\r\nContent-Type: application/json\r\n" +
        "X-Empty:\r\nX-Spaced:   v w  \r\nX-Latin: caf\xe9\r\nConnection: close\r\n\r\n",
    );
    assert.equal(body, "ok");
  } finally {
    await server.shutdown();
  }
  assert.equal(seen.length, 1);
  const [s] = seen;
  assert.ok(s!.native, "a request of Deno.serve has the native reader (the hot path's speed)");
  assert.deepEqual(s!.ours, s!.theirs);
  // what both answer: repeats joined, names case-insensitive, values trimmed, absent is null
  assert.deepEqual(s!.ours.slice(0, 5), [
    "u1, u2",
    "u1, u2",
    "Bearer a, Bearer b",
    "application/json",
    "",
  ]);
  assert.equal(s!.ours[5], "v w");
  assert.equal(s!.ours[7], null);
});

Deno.test("headerSource falls back to request.headers for a request made in JavaScript", () => {
  const req = new Request("http://x/api/usage", {
    headers: [["X-User-Id", "u1"], ["x-user-id", "u2"], ["Authorization", "Bearer k"]],
  });
  const src = headerSource(req);
  assert.ok(src instanceof HeadersAdapter);
  assert.equal(src.header("x-user-id"), "u1, u2");
  assert.equal(src.header("AUTHORIZATION"), "Bearer k");
  assert.equal(src.header("origin"), null);
});
