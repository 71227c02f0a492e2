/** A receiver of outbound webhooks on 127.0.0.1, for the tests: it keeps what it got. */

export interface Received {
  headers: Record<string, string>;
  body: string;
}

/**
 * Serves on a free loopback port. `answer` gives the answer to the `n`th request (1-based): a
 * status, or a whole response (200 when not given); `delayMs` holds each answer back.
 */
export function webhookReceiver(
  o: { answer?: (n: number) => number | Response; delayMs?: number } = {},
) {
  const got: Received[] = [];
  const ids: string[] = [];
  let answered = 0;
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const r = { headers: Object.fromEntries(req.headers), body: await req.text() };
    got.push(r);
    ids.push(r.headers["webhook-id"] ?? "");
    const n = got.length;
    if (o.delayMs) await new Promise((done) => setTimeout(done, o.delayMs));
    answered++;
    const a = o.answer?.(n) ?? 200;
    return typeof a === "number" ? new Response("ok", { status: a }) : a;
  });
  return {
    got,
    /** Each request's `webhook-id`, in order. */
    ids,
    /** Requests answered so far (a delayed one counts once its answer is sent). */
    answered: () => answered,
    types: () => got.map((g) => (JSON.parse(g.body) as { type: string }).type),
    url: `http://127.0.0.1:${server.addr.port}/hooks`,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/** An `answer` giving `statuses` in turn, then 200. */
export const inTurn = (statuses: number[]) => () => statuses.shift() ?? 200;
