/**
 * The ceiling of durable group commit on this machine, for comparison with `deno task bench`:
 * a bare Deno.serve that reads the body and answers only after a KV commit carrying every request
 * queued meanwhile (one `sum` per request, no auth, no checks). Run it, then point wrk at it:
 *   deno run -A --unstable-kv tasks/kv_bound.ts 8109
 *   wrk -t2 -c64 -d10s -s <a POST script> http://127.0.0.1:8109/
 */
const port = Number(Deno.args[0] ?? 8109);
const dir = await Deno.makeTempDir({ prefix: "kv-bound-" });
const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
let queue: (() => void)[] = [];
let running = false;

async function drain() {
  running = true;
  while (queue.length) {
    const batch = queue;
    queue = [];
    let op = kv.atomic();
    for (let i = 0; i < batch.length; i++) op = op.sum(["c", i % 50], 1n);
    await op.commit();
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
