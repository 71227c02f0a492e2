/**
 * The benchmark's baselines. `bare`: a bare Deno.serve answering a small JSON body with its
 * Content-Type only. `headers`: the least any `GET /api/usage` answer costs here — it reads the
 * request headers the hot path reads and answers a usage-sized JSON body with the headers every
 * API answer carries (X-Content-Type-Options, X-Request-Id), with no lookup at all. It reads them
 * one by one natively (`headerSource`, lib/http/native_request.ts), as the hot path does: the
 * cheapest way this runtime has (through `request.headers` the floor answered ~9 % less:
 * docs/performance_journal.md, the seventh session).
 *   deno run --allow-net tasks/bare_server.ts <port> [bare|headers]
 */
import { headerSource } from "../lib/http/native_request.ts";

const port = Number(Deno.args[0] ?? 8100);
const mode = Deno.args[1] ?? "bare";
const body = JSON.stringify({ ok: true });
const usage = JSON.stringify({
  usage: {
    userId: "seed_1234",
    count: 10,
    usageCount: 10,
    limit: 1_000_000_000,
    remaining: 999_999_990,
    overage: 0,
    plan: "free",
    periodStart: "2026-12-01T00:00:00.000Z",
    periodEnd: "2027-01-01T00:00:00.000Z",
  },
});
const JSON_CT = { "Content-Type": "application/json" };
let n = 0;
Deno.serve(
  { port, hostname: "127.0.0.1", onListen: () => {} },
  mode === "headers"
    ? (req) => {
      const h = headerSource(req); // read natively, as the hot path reads them
      const read = [
        h.header("authorization"),
        h.header("x-user-id"),
        h.header("x-clerk-token") !== null,
        h.header("idempotency-key") !== null,
        h.header("x-request-id"),
        h.header("origin") !== null,
      ];
      const res = new Response(read[0] ? usage : body, { headers: JSON_CT });
      res.headers.append("X-Content-Type-Options", "nosniff");
      res.headers.append("X-Request-Id", `req_floor${(n++).toString(36)}`);
      return res;
    }
    : () => new Response(body, { headers: JSON_CT }),
);
