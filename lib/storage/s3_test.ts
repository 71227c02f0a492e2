import assert from "node:assert/strict";
import S3rver from "s3rver";
import { AwsV4Signer } from "aws4fetch";
import { S3Storage } from "@/lib/storage/s3.ts";
import { loadImage, saveImage } from "@/lib/storage/assets.ts";
import { PNG } from "@/tests/fixtures_images.ts";

Deno.test({
  name: "S3Storage stores and serves images on a real S3-compatible server (s3rver)",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const server = new S3rver({
      port: 0,
      address: "127.0.0.1",
      silent: true,
      directory: dir,
      configureBuckets: [{ name: "dream-assets", configs: [] }],
    });
    const { port } = await server.run();
    try {
      const s3 = new S3Storage({
        endpoint: `http://127.0.0.1:${port}`,
        bucket: "dream-assets",
        region: "us-east-1",
        accessKeyId: "S3RVER",
        secretAccessKey: "S3RVER",
      });
      const plt = "plt_" + "c".repeat(22);
      const name = await saveImage(s3, plt, PNG);
      const img = await loadImage(s3, plt, name);
      assert.deepEqual(img.bytes, PNG);
      assert.equal(img.contentType, "image/png");
      assert.equal(await s3.get(`${plt}/${"z".repeat(24)}.png`), null);
    } finally {
      await server.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("aws4fetch matches the AWS SigV4 test suite's get-vanilla vector", async () => {
  // aws-sig-v4-test-suite/get-vanilla: same inputs must give the published signature.
  const signer = new AwsV4Signer({
    url: "https://example.amazonaws.com/",
    method: "GET",
    accessKeyId: "AKIDEXAMPLE",
    secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
    datetime: "20150830T123600Z",
    service: "service",
    region: "us-east-1",
  });
  const { headers } = await signer.sign();
  assert.equal(
    headers.get("Authorization"),
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, " +
      "SignedHeaders=host;x-amz-date, " +
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  );
});

Deno.test("S3Storage's requests verify on a server that checks SigV4 itself; a wrong secret is refused", async () => {
  const { startSigV4Server } = await import("@/tests/sigv4_server.ts");
  const srv = startSigV4Server("the-right-secret");
  try {
    const good = new S3Storage({
      endpoint: srv.url,
      bucket: "b",
      region: "eu-west-1",
      accessKeyId: "AK",
      secretAccessKey: "the-right-secret",
    });
    const plt = "plt_" + "d".repeat(22);
    const name = await saveImage(good, plt, PNG);
    assert.deepEqual((await loadImage(good, plt, name)).bytes, PNG);
    assert.deepEqual(srv.refused, []);
    const bad = new S3Storage({
      endpoint: srv.url,
      bucket: "b",
      region: "eu-west-1",
      accessKeyId: "AK",
      secretAccessKey: "wrong",
    });
    await assert.rejects(() => saveImage(bad, plt, PNG), /403/);
    assert.deepEqual(srv.refused, ["signature mismatch"]);
  } finally {
    await srv.close();
  }
});
