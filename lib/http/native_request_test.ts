import assert from "node:assert/strict";
import { bodyTextNow, HeadersAdapter, headerSource } from "@/lib/http/native_request.ts";

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

Deno.test("bodyTextNow takes a served body at once, as the same text req.text() reads", async () => {
  const got = new Map<string, string | null>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const [name, how] = new URL(req.url).pathname.slice(1).split("/");
    const now = how === "now" ? bodyTextNow(req) : null;
    // when it can't say, the body is still there for text()
    got.set(
      `${name}/${how}`,
      how === "now" ? now ?? `later:${await req.text()}` : await req.text(),
    );
    return new Response("ok");
  });
  const enc = new TextEncoder();
  const bodies: [string, Uint8Array<ArrayBuffer>][] = [
    ["plain", enc.encode('{"quantity":2}')],
    ["bom", Uint8Array.from([0xef, 0xbb, 0xbf, ...enc.encode('{"a":1}')])],
    ["twobom", Uint8Array.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf, 0x31])],
    ["invalid", Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])],
    ["empty", new Uint8Array()],
  ];
  try {
    const base = `http://127.0.0.1:${server.addr.port}`;
    for (const [name, body] of bodies) {
      for (const how of ["now", "text"]) {
        await (await fetch(`${base}/${name}/${how}`, { method: "POST", body })).body?.cancel();
      }
      assert.equal(got.get(`${name}/now`), got.get(`${name}/text`), name);
    }
    assert.equal(got.get("plain/now"), '{"quantity":2}');
    assert.equal(got.get("bom/now"), '{"a":1}', "one byte order mark dropped, as text() does");
    assert.equal(got.get("twobom/now"), "\ufeff1");
    // a body still arriving: not taken now, read whole by text()
    const slow = new ReadableStream<Uint8Array>({
      async start(c) {
        c.enqueue(enc.encode('{"q":'));
        await new Promise((r) => setTimeout(r, 50));
        c.enqueue(enc.encode("1}"));
        c.close();
      },
    });
    await (await fetch(`${base}/slow/now`, { method: "POST", body: slow })).body?.cancel();
    assert.equal(got.get("slow/now"), 'later:{"q":1}');
  } finally {
    await server.shutdown();
  }
  assert.equal(bodyTextNow(new Request("http://x/", { method: "POST", body: "b" })), null);
});
