import assert from "node:assert/strict";
import { hashPassword, sha256Hex, timingSafeEqual, verifyPassword } from "@/lib/crypto.ts";

Deno.test("hashPassword() stores PBKDF2-SHA256 with its iterations and verifies only the right password", async () => {
  const h = await hashPassword("s3cret-password", 600_000);
  assert.match(h, /^pbkdf2-sha256\$600000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.equal(await verifyPassword("s3cret-password", h), true);
  assert.equal(await verifyPassword("s3cret-passworD", h), false);
  assert.notEqual(await hashPassword("s3cret-password", 600_000), h, "salted");
  assert.equal(await verifyPassword("x", "garbage"), false);
});

Deno.test("sha256Hex() matches a known vector; timingSafeEqual() compares", async () => {
  assert.equal(
    await sha256Hex("abc"),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(timingSafeEqual("abc", "abc"), true);
  assert.equal(timingSafeEqual("abc", "abd"), false);
  assert.equal(timingSafeEqual("abc", "ab"), false);
});

Deno.test("sealSecret()/openSecret(): a round trip; another key or a changed byte fails", async () => {
  const { secretBoxKey, sealSecret, openSecret } = await import("@/lib/crypto.ts");
  const key = await secretBoxKey("an app secret that is long enough!!", "webhooks");
  const other = await secretBoxKey("another app secret, long enough too", "webhooks");
  const sealed = await sealSecret(key, "whsec_abc");
  assert.ok(!sealed.includes("whsec_abc"));
  assert.notEqual(sealed, await sealSecret(key, "whsec_abc"), "a fresh IV each time");
  assert.equal(await openSecret(key, sealed), "whsec_abc");
  await assert.rejects(() => openSecret(other, sealed));
  // flip one byte of the ciphertext itself (not a base64 padding bit)
  const [v, iv, ct] = sealed.split(".") as [string, string, string];
  const bytes = Uint8Array.from(atob(ct), (c) => c.charCodeAt(0));
  bytes[0]! ^= 0x01;
  const bad = `${v}.${iv}.${btoa(String.fromCharCode(...bytes))}`;
  await assert.rejects(() => openSecret(key, bad));
});
