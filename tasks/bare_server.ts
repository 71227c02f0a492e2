/** The benchmark's baseline: a bare Deno.serve answering a small JSON body. */
const port = Number(Deno.args[0] ?? 8100);
const body = JSON.stringify({ ok: true });
Deno.serve(
  { port, hostname: "127.0.0.1", onListen: () => {} },
  () => new Response(body, { headers: { "Content-Type": "application/json" } }),
);
