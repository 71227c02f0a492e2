import assert from "node:assert/strict";
import { HttpUrl, ImageUrl, isHttpUrl, isLocalPath, LocalPath } from "@/lib/schemas.ts";

const CONTROLS = [
  ...Array.from({ length: 0x21 }, (_, i) => String.fromCharCode(i)),
  "\u007f",
  "\u0085",
  "\u009f",
  "\u00a0",
  "\u2028",
  "\u3000",
];

Deno.test("isHttpUrl() takes absolute http(s) URLs and refuses every control or space", () => {
  for (const ok of ["https://shop.example/ok", "http://localhost:8000/x?y=1#z"]) {
    assert.ok(isHttpUrl(ok), ok);
    assert.ok(HttpUrl.safeParse(ok).success, ok);
  }
  for (const ch of CONTROLS) {
    assert.equal(isHttpUrl(`https://shop.example/ok${ch}`), false, JSON.stringify(ch));
    assert.equal(isHttpUrl(`${ch}https://shop.example/ok`), false, JSON.stringify(ch));
  }
  for (
    const bad of [
      "javascript:alert(1)",
      "data:text/html,hi",
      "file:///etc/passwd",
      "ftp://x.example/",
      "//evil.example/",
      "/relative",
      "https://",
      "https:///path",
      `https://x.example/${"a".repeat(2048)}`,
    ]
  ) {
    assert.equal(isHttpUrl(bad), false, bad);
  }
});

Deno.test("isLocalPath() takes only same-origin paths", () => {
  for (const ok of ["/dashboard", "/dashboard/projects/pk_test_x?tab=1", "/"]) {
    assert.ok(isLocalPath(ok), ok);
    assert.ok(LocalPath.safeParse(ok).success, ok);
  }
  for (
    const bad of [
      "",
      "dashboard",
      "//evil.example",
      "/\\evil.example",
      "https://evil.example",
      "/%01x".replace("%01", "\u0001"),
      "/\u0000",
      "/\u007fx",
      "/a b",
      "/\u2028",
      `/${"a".repeat(2048)}`,
    ]
  ) {
    assert.equal(isLocalPath(bad), false, JSON.stringify(bad));
  }
  for (const ch of CONTROLS) assert.equal(isLocalPath(`/x${ch}`), false, JSON.stringify(ch));
});

Deno.test("ImageUrl refuses javascript:, data: and file: but takes our own asset paths", () => {
  for (const bad of ["javascript:alert(1)", "data:image/png;base64,AAAA", "file:///x.png"]) {
    assert.equal(ImageUrl.safeParse(bad).success, false, bad);
  }
  assert.ok(ImageUrl.safeParse("https://cdn.example/a.png").success);
  assert.ok(ImageUrl.safeParse("/api/assets/plt_x/abc.png").success);
  assert.equal(ImageUrl.safeParse("/dashboard").success, false);
});
