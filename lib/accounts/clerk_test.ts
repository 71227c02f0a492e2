import assert from "node:assert/strict";
import { exportSPKI, generateKeyPair, SignJWT } from "jose";
import { testApp } from "@/tests/helpers.ts";
import { clerkFrontendApi } from "@/lib/accounts/clerk.ts";

async function clerkSetup() {
  const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
  const jwtKey = await exportSPKI(publicKey);
  const mint = (claims: Record<string, unknown>, expSeconds = 60) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ sid: "sess_1", ...claims })
      .setProtectedHeader({ alg: "RS256", kid: "ins_test" })
      .setIssuedAt(now - 5)
      .setNotBefore(now - 5)
      .setExpirationTime(now + expSeconds)
      .sign(privateKey);
  };
  return { jwtKey, mint };
}

Deno.test("Clerk session tokens are verified networklessly and map to one developer each", async () => {
  const { jwtKey, mint } = await clerkSetup();
  await using app = await testApp({
    config: {
      clerk: {
        publishableKey: "pk_test_" + btoa("example.clerk.accounts.dev$"),
        secretKey: "sk_test_clerk",
        jwtKey,
        authorizedParties: ["http://localhost"],
      },
    },
  });
  const token = await mint({
    sub: "user_abc",
    azp: "http://localhost",
    email: "Clerk@Example.com",
  });
  const me = await app.call("GET", "/v1/me", { key: token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.body.developer.email, "clerk@example.com");
  const again = await app.call("GET", "/v1/me", {
    key: await mint({ sub: "user_abc", azp: "http://localhost" }),
  });
  assert.equal(
    again.body.developer.platformId,
    me.body.developer.platformId,
    "same Clerk user, same account",
  );
  const other = await app.call("GET", "/v1/me", {
    key: await mint({ sub: "user_xyz", azp: "http://localhost" }),
  });
  assert.notEqual(other.body.developer.platformId, me.body.developer.platformId);

  assert.equal(
    (await app.call("GET", "/v1/me", {
      key: await mint({ sub: "user_abc", azp: "https://evil.example" }),
    })).status,
    401,
    "foreign party",
  );
  assert.equal(
    (await app.call("GET", "/v1/me", {
      key: await mint({ sub: "user_abc", azp: "http://localhost" }, -60),
    })).status,
    401,
    "expired",
  );
  const forged = await (await clerkSetup()).mint({ sub: "user_abc", azp: "http://localhost" });
  assert.equal(
    (await app.call("GET", "/v1/me", { key: forged })).status,
    401,
    "signed by another key",
  );
  const tampered = token.slice(0, -4) + (token.endsWith("AAAA") ? "BBBB" : "AAAA");
  assert.equal((await app.call("GET", "/v1/me", { key: tampered })).status, 401);

  // the pages accept Clerk's __session cookie; the sign-in page mounts Clerk's component
  const dash = await app.call("GET", "/dashboard", { headers: { Cookie: `__session=${token}` } });
  assert.equal(dash.status, 200);
  assert.match(dash.text, /Getting started/);
  const signin = await app.call("GET", "/signin");
  assert.match(signin.text, /clerk\.browser\.js/);
  assert.match(signin.text, /example\.clerk\.accounts\.dev/);
});

Deno.test("clerkFrontendApi() decodes the instance host from a publishable key", () => {
  assert.equal(
    clerkFrontendApi("pk_test_" + btoa("foo-bar-12.clerk.accounts.dev$")),
    "foo-bar-12.clerk.accounts.dev",
  );
  assert.equal(clerkFrontendApi("pk_live_%%%"), "");
});
