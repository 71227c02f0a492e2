/** Running the real server as a subprocess (the benchmark and the kill -9 test use it). */
const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** `deno run` arguments for the server with exactly the permissions it needs. */
export const SERVER_RUN_ARGS = [
  "run",
  "--allow-net",
  "--allow-env",
  "--allow-read",
  "--allow-write",
  "--unstable-kv",
  MAIN,
];

/** A free loopback port. */
export function freePort(): number {
  const l = Deno.listen({ port: 0, hostname: "127.0.0.1" });
  const p = (l.addr as Deno.NetAddr).port;
  l.close();
  return p;
}

/** Waits until `url` answers 2xx (10 s at most). */
export async function waitUp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not come up`);
}

/**
 * Starts main.ts on `port` with `dataDir`, rate limits off, quiet logs (`main` and `cwd`: another
 * checkout's, for `deno task ab`).
 */
export function startServer(
  port: number,
  dataDir: string,
  o: {
    logLevel?: string;
    stderr?: "inherit" | "null";
    env?: Record<string, string>;
    main?: string;
    cwd?: string;
  } = {},
) {
  return new Deno.Command(Deno.execPath(), {
    args: o.main ? [...SERVER_RUN_ARGS.slice(0, -1), o.main] : SERVER_RUN_ARGS,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    env: {
      PORT: String(port),
      DATA_DIR: dataDir,
      RATE_LIMIT_PER_KEY: "0",
      RATE_LIMIT_PER_CUSTOMER: "0",
      LOG_LEVEL: o.logLevel ?? "warn",
      ...o.env,
    },
    stdout: "null",
    stderr: o.stderr ?? "inherit",
  }).spawn();
}

/**
 * Runs one of tasks/ (a yardstick server: `bare_server.ts`, `kv_bound.ts`) on a free port, `flags`
 * for deno and `args` after the port, once it answers.
 */
export async function startTask(file: string, flags: string[], args: string[] = []) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, new URL(file, import.meta.url).pathname, String(port), ...args],
    stdout: "null",
  }).spawn();
  await waitUp(`http://127.0.0.1:${port}/`);
  return { port, child };
}

/** Signs up a developer on a running server and creates a project; returns its keys. */
export async function seedProject(base: string, email: string, project: unknown) {
  const signup = await fetch(`${base}/v1/signup`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: "a long password 123" }),
  });
  const cookie = signup.headers.get("set-cookie")!.split(";")[0]!;
  await signup.body?.cancel();
  const tok = await (await fetch(`${base}/v1/tokens`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Cookie: cookie, Origin: base },
    body: JSON.stringify({ name: "automation" }),
  })).json();
  const res = await fetch(`${base}/v1/projects`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${tok.secret}` },
    body: JSON.stringify(project),
  });
  const body = await res.json();
  if (res.status !== 201) throw new Error(`project: ${res.status} ${JSON.stringify(body)}`);
  return {
    pk: body.publishableKey as string,
    sk: body.secretKey as string,
    dat: tok.secret as string,
  };
}
