/**
 * One outbound-webhook attempt: a POST signed per Standard Webhooks (`npm:standardwebhooks`;
 * every live secret of the endpoint signs during a rotation) to a target checked again just
 * before (lib/outbound/ssrf.ts), with 10 s, no redirect followed and at most 4 KB of the answer
 * read.
 */
import { Webhook } from "standardwebhooks";
import type { Services } from "@/lib/services.ts";
import type { WebhookEndpoint } from "@/lib/kv/projects.ts";
import type { Attempt, Delivery } from "@/lib/kv/webhook_outbox.ts";
import { signingSecrets } from "@/lib/outbound/endpoints.ts";
import { checkTarget, pinnedTarget } from "@/lib/outbound/ssrf.ts";

const TIMEOUT_MS = 10_000;
const READ_LIMIT = 4096;

/** One signed POST; never throws (its failure is the attempt's error). */
export async function send(s: Services, endpoint: WebhookEndpoint, d: Delivery): Promise<Attempt> {
  const at = s.clock.now();
  const started = performance.now();
  const done = (status: number | null, error: string | null): Attempt => ({
    at,
    status,
    durationMs: Math.round(performance.now() - started),
    error,
  });
  try {
    const url = new URL(endpoint.url);
    // checked again now: the name may resolve elsewhere than when the endpoint was made
    const allowPrivate = s.config.webhookAllowPrivate;
    const addrs = await checkTarget(url, { allowPrivate });
    // plain http goes to the address just checked, not to a second resolution of the name
    const pin = allowPrivate ? null : pinnedTarget(url, addrs);
    const stamp = new Date(at);
    const signatures = (await signingSecrets(s, endpoint)).map((secret) =>
      new Webhook(secret).sign(d.id, stamp, d.body)
    );
    // a client that may send the Host header, for this attempt only
    using client = pin ? Deno.createHttpClient({ allowHost: true }) : null;
    const res = await fetch(pin ? pin.url : url, {
      method: "POST",
      body: d.body,
      redirect: "manual",
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        "Content-Type": "application/json",
        "User-Agent": "dream-api-webhooks/1",
        "webhook-id": d.id,
        "webhook-timestamp": String(Math.floor(at / 1000)),
        "webhook-signature": signatures.join(" "),
        ...(pin ? { Host: pin.host } : {}),
      },
      ...(client ? { client } : {}),
    });
    const excerpt = await readLimited(res);
    const ok = res.status >= 200 && res.status < 300;
    return done(
      res.status,
      ok
        ? null
        : res.status >= 300 && res.status < 400
        ? `redirect to ${res.headers.get("location") ?? "?"} not followed`
        : `HTTP ${res.status}${excerpt ? `: ${excerpt.slice(0, 200)}` : ""}`,
    );
  } catch (err) {
    return done(null, err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
}

/** At most 4 KB of an answer (the rest is not read). */
async function readLimited(res: Response): Promise<string> {
  if (!res.body) return "";
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < READ_LIMIT) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  const all = new Uint8Array(Math.min(size, READ_LIMIT));
  let off = 0;
  for (const c of chunks) {
    const part = c.subarray(0, Math.max(0, all.length - off));
    all.set(part, off);
    off += part.length;
  }
  return new TextDecoder().decode(all);
}
