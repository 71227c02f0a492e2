import assert from "node:assert/strict";
import { BlockedTargetError, checkTarget, isPrivateAddress } from "@/lib/outbound/ssrf.ts";

Deno.test("isPrivateAddress(): private, loopback, link-local and reserved ranges; public ones pass", () => {
  for (
    const ip of [
      "127.0.0.1",
      "10.1.2.3",
      "172.16.0.1",
      "172.31.255.255",
      "192.168.1.1",
      "169.254.169.254",
      "0.0.0.0",
      "100.64.0.1",
      "::1",
      "[::1]",
      "fd00::1",
      "fe80::1",
      "::ffff:127.0.0.1",
      "::ffff:10.0.0.1",
      "224.0.0.1",
      "not-an-ip",
    ]
  ) assert.equal(isPrivateAddress(ip), true, ip);
  for (const ip of ["8.8.8.8", "172.32.0.1", "1.1.1.1", "2606:4700::1111", "::ffff:8.8.8.8"]) {
    assert.equal(isPrivateAddress(ip), false, ip);
  }
});

Deno.test("checkTarget(): literal and named private targets refused unless allowed; schemes and credentials", async () => {
  for (
    const u of ["http://127.0.0.1:9/x", "http://localhost/x", "http://[::1]/", "http://10.0.0.5/"]
  ) {
    await assert.rejects(
      () => checkTarget(new URL(u), { allowPrivate: false }),
      BlockedTargetError,
    );
    assert.ok((await checkTarget(new URL(u), { allowPrivate: true })).length > 0);
  }
  await assert.rejects(
    () => checkTarget(new URL("ftp://example.com/"), { allowPrivate: true }),
    BlockedTargetError,
  );
  await assert.rejects(
    () => checkTarget(new URL("https://u:p@93.184.215.14/"), { allowPrivate: false }),
    BlockedTargetError,
  );
  assert.deepEqual(
    await checkTarget(new URL("https://93.184.215.14/hook"), { allowPrivate: false }),
    [
      "93.184.215.14",
    ],
  );
});
