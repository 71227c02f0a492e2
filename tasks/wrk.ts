/** Driving wrk from the benchmark tasks (`deno task bench`, `deno task ab`). */

export interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  /** 2xx and 3xx answers */
  ok: number;
  other: number;
}

/** The median of some runs' numbers. */
export function median(xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[(v.length - 1) / 2]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2;
}

const toMs = (v: string, unit: string) => Number(v) * ({ us: 0.001, ms: 1, s: 1000 }[unit] ?? 1);

/** One wrk run at `connections` (two threads), with a Lua `script` or plain GETs. */
export async function wrk(
  url: string,
  script: string | null,
  o: { seconds: string; connections: number },
): Promise<WrkResult> {
  const args = ["-t2", `-c${o.connections}`, `-d${o.seconds}s`, "--latency"];
  let file: string | null = null;
  if (script) {
    file = await Deno.makeTempFile({ suffix: ".lua" });
    await Deno.writeTextFile(file, script);
    args.push("-s", file);
  }
  const out = await new Deno.Command("wrk", {
    args: [...args, url],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (file) await Deno.remove(file);
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) throw new Error(`wrk failed: ${text}${new TextDecoder().decode(out.stderr)}`);
  const lat = (p: string) => {
    const m = new RegExp(`${p}%\\s+([\\d.]+)(us|ms|s)`).exec(text);
    return m ? toMs(m[1]!, m[2]!) : NaN;
  };
  const total = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const ok = total - Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    p50: lat("50"),
    p99: lat("99"),
    ok,
    other: total - ok,
  };
}

/**
 * A wrk script that spreads calls over `users` customers (`userOf`: Lua setting `user` from the
 * index `k`). The requests are formatted once in `init` and replayed in turn, and no `response`
 * hook is set, so that the load generator spends as little of this 2-core machine as it does
 * against a bare server; the 200s are counted from wrk's own "Non-2xx or 3xx responses" line.
 */
export function replayScript(
  o: { method: string; path: string; sk: string; users: number; userOf: string },
): string {
  const body = o.method === "POST" ? '"{}"' : "nil";
  return `
local threads = 0
local reqs = {}
local n = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end
function init(args)
  for k = 0, ${o.users - 1} do
    local user
    ${o.userOf}
    local headers = { ["Authorization"] = "Bearer ${o.sk}", ["X-User-Id"] = user, ["Content-Type"] = "application/json" }
    reqs[k] = wrk.format("${o.method}", "${o.path}", headers, ${body})
  end
  n = id * 7919
end
function request()
  n = n + 1
  return reqs[n % ${o.users}]
end
`;
}
