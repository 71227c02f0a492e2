/**
 * A tiny S3-like server that checks AWS SigV4 signatures itself (written from the AWS spec,
 * independent of aws4fetch), for testing that S3Storage's requests are signed right.
 */
const enc = new TextEncoder();
const hex = (b: ArrayBuffer) =>
  Array.from(new Uint8Array(b), (x) => x.toString(16).padStart(2, "0")).join("");
const sha256 = async (data: Uint8Array | string) =>
  hex(
    await crypto.subtle.digest(
      "SHA-256",
      typeof data === "string" ? enc.encode(data) : data as BufferSource,
    ),
  );
async function hmac(key: Uint8Array | string, data: string): Promise<Uint8Array> {
  const k = await crypto.subtle.importKey(
    "raw",
    (typeof key === "string" ? enc.encode(key) : key) as BufferSource,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(data)));
}

/** Verifies a request's SigV4 Authorization header against the secret; returns why not, or null. */
export async function verifySigV4(
  req: Request,
  body: Uint8Array,
  secret: string,
): Promise<string | null> {
  const auth = req.headers.get("Authorization") ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/
      .exec(auth);
  if (!m) return "malformed Authorization";
  const [, , date, region, service, signedHeaders, signature] = m;
  const amzDate = req.headers.get("x-amz-date") ?? "";
  if (!amzDate.startsWith(date!)) return "x-amz-date does not match the credential date";
  const payloadHash = req.headers.get("x-amz-content-sha256") ?? await sha256(body);
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== await sha256(body)) {
    return "payload hash mismatch";
  }
  const url = new URL(req.url);
  const query = [...url.searchParams].map((
    [k, v],
  ) => [encodeURIComponent(k), encodeURIComponent(v)])
    .sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)).map(([k, v]) => `${k}=${v}`).join("&");
  const names = signedHeaders!.split(";");
  const canonicalHeaders = names.map((n) =>
    `${n}:${(req.headers.get(n) ?? "").trim().replace(/\s+/g, " ")}\n`
  ).join("");
  const canonical = [req.method, url.pathname, query, canonicalHeaders, signedHeaders, payloadHash]
    .join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, await sha256(canonical)].join("\n");
  let key = await hmac(`AWS4${secret}`, date!);
  for (const part of [region!, service!, "aws4_request"]) key = await hmac(key, part);
  const expected = hex((await hmac(key, toSign)).buffer as ArrayBuffer);
  return expected === signature ? null : "signature mismatch";
}

/** Serves PUT/GET of objects in memory, refusing any request whose signature does not verify. */
export function startSigV4Server(secret: string) {
  const objects = new Map<string, { bytes: Uint8Array; type: string }>();
  const refused: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    const why = await verifySigV4(req, body, secret);
    if (why) {
      refused.push(why);
      return new Response(
        `<Error><Code>SignatureDoesNotMatch</Code><Message>${why}</Message></Error>`,
        { status: 403 },
      );
    }
    const path = new URL(req.url).pathname;
    if (req.method === "PUT") {
      objects.set(path, {
        bytes: body,
        type: req.headers.get("Content-Type") ?? "application/octet-stream",
      });
      return new Response(null, { status: 200 });
    }
    const o = objects.get(path);
    return o
      ? new Response(o.bytes as BodyInit, { headers: { "Content-Type": o.type } })
      : new Response("<Error><Code>NoSuchKey</Code></Error>", { status: 404 });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    objects,
    refused,
    close: () => server.shutdown(),
  };
}
