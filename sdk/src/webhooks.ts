/**
 * Verifying dream-api's outbound webhooks (Standard Webhooks, https://www.standardwebhooks.com):
 * the signature is HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}` with the
 * endpoint's secret (`whsec_` + base64), sent as `v1,<base64>` (several, space-separated, while
 * a rotated secret still signs). Web Crypto only: Node ≥ 18, Deno, Bun and browsers.
 */

export class WebhookVerificationError extends Error {
  override name = "WebhookVerificationError";
}

/** A verified event: its type, when it was made, and the object with its version. */
export interface WebhookEvent<T = unknown> {
  type: string;
  timestamp: string;
  data: { object: T; version: number };
}

const TOLERANCE_SECONDS = 5 * 60;

function header(
  headers: Headers | Record<string, string | undefined>,
  name: string,
) {
  if (typeof (headers as Headers).get === "function") {
    return (headers as Headers).get(name);
  }
  const h = headers as Record<string, string | undefined>;
  return h[name] ?? h[name.toLowerCase()] ??
    Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1] ?? null;
}

function fromBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Constant-time comparison of two strings of the same length. */
function same(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Checks a delivery and answers its event; throws `WebhookVerificationError` when the signature
 * does not match, the headers are missing, or the timestamp is more than 5 minutes off (a
 * replay). Pass the raw body exactly as received.
 */
export async function verifyWebhook<T = unknown>(
  secret: string,
  body: string,
  headers: Headers | Record<string, string | undefined>,
  o: { now?: Date } = {},
): Promise<WebhookEvent<T>> {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError(
      "Missing webhook-id, webhook-timestamp or webhook-signature",
    );
  }
  const sent = Number(timestamp);
  const now = Math.floor((o.now ?? new Date()).getTime() / 1000);
  if (!Number.isInteger(sent) || Math.abs(now - sent) > TOLERANCE_SECONDS) {
    throw new WebhookVerificationError(
      "The webhook-timestamp is too old or too new",
    );
  }
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(
      secret.startsWith("whsec_") ? secret.slice(6) : secret,
    ) as Uint8Array<ArrayBuffer>,
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign(
      "HMAC",
      key,
      new TextEncoder().encode(`${id}.${timestamp}.${body}`),
    ),
  );
  const expected = toBase64(mac);
  const ok = signatures.split(" ").some((part) => {
    const [version, sig] = part.split(",");
    return version === "v1" && sig !== undefined && same(sig, expected);
  });
  if (!ok) throw new WebhookVerificationError("No matching signature");
  return JSON.parse(body) as WebhookEvent<T>;
}
