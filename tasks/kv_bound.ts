/**
 * The ceiling of durable acknowledgement on this machine, driven by `deno task bench` as the
 * "ceiling" row. It is the cheapest design that still does the writes and the HTTP work the
 * contract needs, minus everything that can only cost more: a Deno.serve that reads the body and
 * the Authorization, X-User-Id and Idempotency-Key headers, and answers JSON with X-Request-Id
 * and nosniff only after one KV commit that carries every request queued meanwhile as a single
 * usage-log row (customer → quantity), a checked per-project head row (what keeps several
 * instances exact) and the two usage aggregates. Left out, each of which would lower it: key and
 * customer lookups, limit decisions, idempotency records, and folding the log into per-customer
 * counters.
 * Headers are read one by one and the body at once natively (`headerSource`, `bodyTextNow`,
 * lib/http/native_request.ts), and the row and head are written as bytes (`jsonBytes`,
 * `seqValue`, lib/kv/_bytes.ts), as the meter does: the cheapest ways this runtime has.
 *   deno run -A --unstable-kv tasks/kv_bound.ts <port> <kv dir>
 */
import { bodyTextNow, headerSource } from "../lib/http/native_request.ts";
import { jsonBytes, seqValue } from "../lib/kv/_bytes.ts";

const port = Number(Deno.args[0] ?? 8109);
const dir = Deno.args[1] ?? await Deno.makeTempDir({ prefix: "kv-bound-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
const PK = "pk_test_ceiling";
const JSON_CT = { "Content-Type": "application/json" };
let queue: { user: string; done: () => void }[] = [];
let running = false;
let seq = 0;
let head: string | null = null;
let requestCounter = 0;

async function drain() {
  running = true;
  while (queue.length) {
    const batch = queue;
    queue = [];
    const perCustomer = new Map<string, number>();
    for (const { user } of batch) perCustomer.set(user, (perCustomer.get(user) ?? 0) + 1);
    const now = new Date().toISOString();
    const res = await kv.atomic()
      .set(["usage_log", PK, ++seq], jsonBytes([...perCustomer])) // written as the meter writes
      .check({ key: ["usage_head", PK], versionstamp: head })
      .set(["usage_head", PK], seqValue(seq))
      .sum(["project_stats", PK, "usage_month", now.slice(0, 7)], BigInt(batch.length))
      .sum(["project_stats", PK, "usage_day", now.slice(0, 10)], BigInt(batch.length))
      .commit();
    if (!res.ok) throw new Error("the ceiling server is the only writer of its KV");
    head = res.versionstamp;
    for (const { done } of batch) done();
  }
  running = false;
}

Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
  if (req.method !== "POST") return new Response("{}", { headers: JSON_CT }); // readiness
  bodyTextNow(req) ?? await req.text(); // read as the hot path reads it
  const h = headerSource(req); // read natively, as the hot path reads them
  if (!h.header("authorization") || h.header("idempotency-key") !== null) {
    return new Response('{"error":{}}', { status: 400, headers: JSON_CT });
  }
  const user = h.header("x-user-id") ?? "";
  await new Promise<void>((done) => {
    queue.push({ user, done });
    if (!running) drain();
  });
  const res = new Response('{"success":true}', { headers: JSON_CT });
  res.headers.append("X-Content-Type-Options", "nosniff");
  res.headers.append("X-Request-Id", `req_ceiling${(requestCounter++).toString(36)}`);
  return res;
});
