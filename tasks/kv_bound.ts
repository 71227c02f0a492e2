/**
 * The ceiling of durable acknowledgement on this machine, driven by `deno task bench` as the
 * "ceiling" row: a bare Deno.serve that reads the body and answers only after a KV commit that
 * counts every request queued meanwhile, in one row (no auth, no per-customer counters, no
 * checks, no limits). Any design that answers after a durable commit does at least this work per
 * request, so its requests/s bounds what `POST /api/data` can reach here.
 *   deno run -A --unstable-kv tasks/kv_bound.ts <port> <kv dir>
 */
const port = Number(Deno.args[0] ?? 8109);
const dir = Deno.args[1] ?? await Deno.makeTempDir({ prefix: "kv-bound-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
let queue: (() => void)[] = [];
let running = false;

async function drain() {
  running = true;
  while (queue.length) {
    const batch = queue;
    queue = [];
    await kv.atomic().sum(["count"], BigInt(batch.length)).commit();
    for (const done of batch) done();
  }
  running = false;
}

Deno.serve({ port, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
  await req.text();
  await new Promise<void>((resolve) => {
    queue.push(resolve);
    if (!running) drain();
  });
  return new Response('{"ok":true}', { headers: { "Content-Type": "application/json" } });
});
