/** Test helpers: an app on in-memory KV with a settable clock, and HTTP shortcuts. */
import { type App, createApp } from "@/server/app.ts";
import { type Config, testConfig } from "@/lib/config.ts";
import { memoryLogger } from "@/lib/logger.ts";
import { FsStorage } from "@/lib/storage/fs.ts";
import type { ObjectStorage } from "@/lib/storage/storage.ts";

export const ORIGIN = "http://localhost";

export class TestClock {
  t: number;
  constructor(iso = "2026-11-24T12:00:00.000Z") {
    this.t = Date.parse(iso);
  }
  now = () => this.t;
  set(iso: string) {
    this.t = Date.parse(iso);
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export interface TestApp extends App {
  kv: Deno.Kv;
  clock: TestClock;
  logs: ReturnType<typeof memoryLogger>;
  call(method: string, path: string, opts?: CallOpts): Promise<TestResponse>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface CallOpts {
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  key?: string;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  // deno-lint-ignore no-explicit-any
  body: any;
  text: string;
}

/** An app on its own in-memory KV (or a shared one), with a test clock. */
export async function testApp(
  opts: { config?: Partial<Config>; kv?: Deno.Kv; clock?: TestClock; storage?: ObjectStorage } = {},
): Promise<TestApp> {
  const kv = opts.kv ?? await Deno.openKv(":memory:");
  const clock = opts.clock ?? new TestClock();
  const logs = memoryLogger();
  const assetsDir = await Deno.makeTempDir({ prefix: "dream-assets-" });
  const app = await createApp({
    config: testConfig({
      rateLimitPerKey: 0,
      rateLimitPerCustomer: 0,
      authRateLimitPerMinute: 0,
      ...opts.config,
    }),
    kv,
    clock,
    logger: logs,
    storage: opts.storage ?? new FsStorage(assetsDir),
  });
  const call = (method: string, path: string, o: CallOpts = {}) =>
    request(app.fetch, method, path, o);
  return {
    ...app,
    kv,
    clock,
    logs,
    call,
    async [Symbol.asyncDispose]() {
      if (!opts.kv) kv.close();
      await Deno.remove(assetsDir, { recursive: true });
    },
  };
}

/** One request through `fetch` (an app's or a real port's), JSON in and out. */
export async function request(
  fetcher: (r: Request) => Response | Promise<Response>,
  method: string,
  path: string,
  o: CallOpts = {},
  base = ORIGIN,
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.key) headers["Authorization"] = `Bearer ${o.key}`;
  let body: string | undefined;
  if (o.raw !== undefined) body = o.raw;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers["Content-Type"] ??= "application/json";
  }
  const res = await fetcher(
    new Request(base + path, { method, headers, ...(body !== undefined ? { body } : {}) }),
  );
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export const SAAS_TIERS = [
  { name: "free", price: 0, limit: 5, features: ["5 calls"] },
  { name: "pro", price: 1900, limit: 100, popular: true },
  { name: "team", price: 19000, interval: "year", limit: null },
];

/** Signs up a developer and mints an access token; returns its bearer. */
export async function developer(
  app: TestApp,
  email = `dev${crypto.randomUUID().slice(0, 8)}@example.com`,
) {
  const signup = await app.call("POST", "/v1/signup", {
    body: { email, password: "correct horse battery" },
  });
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.text}`);
  const cookie = signup.headers.get("set-cookie")!.split(";")[0]!;
  const tok = await app.call("POST", "/v1/tokens", {
    body: { name: "tests" },
    headers: { Cookie: cookie, Origin: ORIGIN },
  });
  return {
    email,
    cookie,
    dat: tok.body.secret as string,
    platformId: signup.body.developer.platformId as string,
  };
}

/** Creates a project for a developer token; returns its keys. */
export async function project(
  app: TestApp,
  dat: string,
  input: { name?: string; type?: "saas" | "store"; tiers?: unknown[] } = {},
) {
  const res = await app.call("POST", "/v1/projects", {
    key: dat,
    body: {
      name: input.name ?? "Test",
      type: input.type ?? "saas",
      tiers: input.tiers ?? SAAS_TIERS,
    },
  });
  if (res.status !== 201) throw new Error(`project failed: ${res.text}`);
  return {
    pk: res.body.publishableKey as string,
    sk: res.body.secretKey as string,
    body: res.body,
  };
}

/**
 * Customer `user` buys `tier` through a sandbox checkout paid at once; answers the
 * subscription's id.
 */
export async function subscribe(app: TestApp, sk: string, user: string, tier = "pro") {
  const co = await app.call("POST", "/api/create-checkout", {
    key: sk,
    headers: { "X-User-Id": user },
    body: { tier, successUrl: "https://a.example/ok", cancelUrl: "https://a.example/no" },
  });
  if (co.status !== 200) throw new Error(`checkout failed: ${co.text}`);
  const paid = await app.call("POST", new URL(co.body.url).pathname + "/complete", { body: {} });
  if (paid.status !== 200) throw new Error(`payment failed: ${paid.text}`);
  const got = await app.call("GET", `/api/customers/${user}`, { key: sk });
  return got.body.customer.subscription.id as string;
}

/**
 * `POST /api/create-checkout` for a customer (`user`) of the project of `sk`: the `tier` ("pro"
 * unless given) with fixed return URLs and `more` fields (a promotion code …).
 */
export function createCheckout(
  server: { call: (method: string, path: string, o?: CallOpts) => Promise<TestResponse> },
  o: { sk: string; user: string; tier?: string; more?: Record<string, unknown> },
) {
  return server.call("POST", "/api/create-checkout", {
    key: o.sk,
    headers: { "X-User-Id": o.user },
    body: {
      tier: o.tier ?? "pro",
      successUrl: "https://app.example/ok",
      cancelUrl: "https://app.example/no",
      ...o.more,
    },
  });
}

/** Serves an app on a real loopback port; the returned object closes it on dispose. */
export function servePort(app: { fetch: (r: Request) => Response | Promise<Response> }) {
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    base,
    call: (method: string, path: string, o: CallOpts = {}) => request(fetch, method, path, o, base),
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

/**
 * A proxy of `real` in which `wrap` may replace a method (it is given the method bound to the
 * store, and answers the replacement or undefined); everything else is the store's own.
 */
export function proxyKv(
  real: Deno.Kv,
  wrap: (prop: string | symbol, method: (...a: unknown[]) => unknown) => unknown,
): Deno.Kv {
  return new Proxy(real, {
    get(target, prop) {
      const v = Reflect.get(target, prop);
      if (typeof v !== "function") return v;
      const method = v.bind(target);
      return wrap(prop, method) ?? method;
    },
  });
}

/**
 * An in-memory store whose next read (`get`) of a key in a table can be held: it reads at once
 * and answers only on `release()` — a read under way while something else writes (`begin`).
 */
export async function heldReads() {
  let table: string | null = null;
  let release = () => {};
  const kv = proxyKv(
    await Deno.openKv(":memory:"),
    (prop, method) =>
      prop === "get"
        ? async (...a: unknown[]) => {
          if (table === null || (a[0] as Deno.KvKey)[0] !== table) return method(...a);
          table = null;
          const read = await method(...a);
          await new Promise<void>((r) => release = r);
          return read;
        }
        : undefined,
  );
  return {
    kv,
    release: () => release(),
    /** Starts `work` with its next read of `t` held; answers once that read has begun. */
    async begin<T>(t: string, work: () => Promise<T>): Promise<{ result: Promise<T> }> {
      table = t;
      const result = work();
      // the read begins within a few milliseconds, or longer on a machine busy with other tests
      for (let waited = 0; table !== null && waited < 3000; waited += 5) {
        await new Promise((r) => setTimeout(r, 5));
      }
      if (table !== null) throw new Error(`no read of ${t} began`);
      return { result };
    },
  };
}

/** Which writes of one commit a fault picks: the keys it sets (with their values). */
export type CommitPick = (sets: { key: Deno.KvKey; value: unknown }[]) => boolean;

/**
 * An in-memory store that fails on demand, for what a request does when the store fails
 * mid-way. `failCommits(pick, n)`: the next `n` commits whose sets `pick` picks are refused
 * (nothing written); `failReads(pick, n)`: the next `n` reads (`get`, `getMany`) whose first key
 * `pick` picks; `afterCommit(pick, fn)`: `fn` runs once a commit `pick` picks went through (to
 * arm a fault for what follows it). `n` may be Infinity; 0 ends a fault.
 */
export async function faultyKv() {
  type Fault<P> = { pick: P; left: number };
  const commits: Fault<CommitPick>[] = [];
  const reads: Fault<(key: Deno.KvKey) => boolean>[] = [];
  const after: { pick: CommitPick; fn: () => void }[] = [];
  const failure = () => Promise.reject(new Error("the store failed for a moment"));
  const take = <P>(faults: Fault<P>[], picked: (p: P) => boolean) => {
    const f = faults.find((f) => f.left > 0 && picked(f.pick));
    if (f) f.left--;
    return f !== undefined;
  };
  const kv = proxyKv(await Deno.openKv(":memory:"), (prop, method) => {
    if (prop === "get" || prop === "getMany") {
      return (...a: unknown[]) => {
        const first = (prop === "get" ? a[0] : (a[0] as Deno.KvKey[])[0]) as Deno.KvKey;
        return take(reads, (pick) => pick(first)) ? failure() : method(...a);
      };
    }
    if (prop !== "atomic") return undefined;
    return () => {
      const op = method() as Deno.AtomicOperation;
      const sets: { key: Deno.KvKey; value: unknown }[] = [];
      const set = op.set.bind(op);
      op.set = (key, value, o) => {
        sets.push({ key, value });
        return set(key, value, o);
      };
      const commit = op.commit.bind(op);
      op.commit = async () => {
        if (take(commits, (pick) => pick(sets))) return failure();
        const res = await commit();
        if (res.ok) { for (const a of after.filter((a) => a.pick(sets))) a.fn(); }
        return res;
      };
      return op;
    };
  });
  return {
    kv,
    /** Arms a fault; its `left` counts down as it is used. */
    failCommits(pick: CommitPick, n = 1): { readonly left: number } {
      const f = { pick, left: n };
      commits.push(f);
      return f;
    },
    failReads(pick: (key: Deno.KvKey) => boolean, n = 1): { readonly left: number } {
      const f = { pick, left: n };
      reads.push(f);
      return f;
    },
    afterCommit(pick: CommitPick, fn: () => void) {
      after.push({ pick, fn });
    },
    /** Ends every fault still armed. */
    heal() {
      for (const f of [...commits, ...reads]) f.left = 0;
      after.length = 0;
    },
    /** Faults armed and not used up. */
    get armed() {
      return [...commits, ...reads].reduce((n, f) => n + f.left, 0);
    },
  };
}

/** A commit that sets a key of `table` (its first part), and whose value `value` picks. */
export const setsIn =
  (table: string, value: (v: unknown) => boolean = () => true): CommitPick => (sets) =>
    sets.some((w) => w.key[0] === table && value(w.value));

/** A KV whose reads are counted. */
export function countingKv(real: Deno.Kv) {
  const reads = { n: 0 };
  const kv = proxyKv(
    real,
    (prop, method) =>
      prop === "get" || prop === "getMany" || prop === "list"
        ? (...args: unknown[]) => {
          reads.n++;
          return method(...args);
        }
        : undefined,
  );
  return { kv, reads };
}

/**
 * A KV that is slow where a remote one can be: each commit's result reaches the caller
 * `delays.commitResult` ms after the commit landed, each list starts `delays.list` ms late and
 * each get or getMany answers `delays.read` ms after it read. The delays can be changed while in
 * use; `events` records what happened in which order.
 */
export function delayedKv(
  real: Deno.Kv,
  delays: { commitResult: number; list: number; read?: number },
) {
  const events: string[] = [];
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const kv = proxyKv(real, (prop, method) => {
    if (prop === "atomic") {
      return () => {
        const op = real.atomic();
        const commit = op.commit.bind(op);
        op.commit = async () => {
          const res = await commit();
          if (delays.commitResult) {
            events.push(`commit landed${res.ok ? "" : " (failed)"}`);
            await sleep(delays.commitResult);
            events.push("commit answered");
          }
          return res;
        };
        return op;
      };
    }
    if (prop === "list") {
      return (...args: Parameters<Deno.Kv["list"]>) => {
        const iter = real.list(...args);
        const delay = delays.list;
        return (async function* () {
          if (delay) (events.push("list started"), await sleep(delay));
          yield* iter;
          if (delay) events.push("list done");
        })();
      };
    }
    if (prop === "get" || prop === "getMany") {
      return async (...args: unknown[]) => {
        const got = await method(...args);
        if (delays.read) await sleep(delays.read);
        return got;
      };
    }
  });
  return { kv, events };
}

/**
 * `app.call` for the random walks: every answer is kept as a line (`log`, long ids shortened)
 * for the assertion messages, and every 5xx in `fivexx`.
 */
export function recordedCalls(app: TestApp) {
  const log: string[] = [];
  const fivexx: string[] = [];
  const call = async (method: string, path: string, o: CallOpts = {}) => {
    const r = await app.call(method, path, o);
    log.push(`${method} ${path.replace(/\/[A-Za-z0-9_]{20,}/g, "/…")} ${r.status}`);
    if (r.status >= 500) fivexx.push(`${method} ${path}: ${r.status} ${r.text.slice(0, 200)}`);
    return r;
  };
  return { call, log, fivexx };
}
