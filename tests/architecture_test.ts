/**
 * The architecture, enforced: Deno KV is touched only in lib/kv/, lib/ never reaches routes/ or
 * server/, domain folders import each other without cycles, islands ship only islands,
 * components and shared types, and no source file grows past 400 lines. Import rules follow the
 * module graph `deno info` builds (transitively), not lines of text.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = ROOT.pathname;

interface Dep {
  code?: { specifier: string };
  type?: { specifier: string };
}
interface Graph {
  modules: { specifier: string; dependencies?: (Dep & { specifier: string })[] }[];
}

/** Local module → its local imports (code and type-only apart), from every entry point. */
async function moduleGraph(entries: string[]) {
  const code = new Map<string, Set<string>>();
  const types = new Map<string, Set<string>>();
  const local = (s: string) => s.startsWith(ROOT.href) ? s.slice(ROOT.href.length) : null;
  for (const entry of entries) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: ROOT_PATH,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const doc: Graph = JSON.parse(new TextDecoder().decode(out.stdout));
    for (const m of doc.modules) {
      const from = local(m.specifier);
      if (!from) continue;
      const c = code.get(from) ?? new Set<string>();
      const t = types.get(from) ?? new Set<string>();
      for (const d of m.dependencies ?? []) {
        const to = local(d.code?.specifier ?? "");
        if (to) c.add(to);
        const tt = local(d.type?.specifier ?? "");
        if (tt && !to) t.add(tt);
      }
      code.set(from, c);
      types.set(from, t);
    }
  }
  return { code, types };
}

function reachable(graph: Map<string, Set<string>>, from: string): Set<string> {
  const seen = new Set<string>();
  const todo = [from];
  while (todo.length) {
    const m = todo.pop()!;
    for (const d of graph.get(m) ?? []) {
      if (!seen.has(d)) {
        seen.add(d);
        todo.push(d);
      }
    }
  }
  return seen;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(new URL(dir, ROOT))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...await sourceFiles(path));
    else if (/\.tsx?$/.test(e.name)) out.push(path);
  }
  return out;
}

const islands = async () =>
  (await sourceFiles("islands")).filter((f) => /^islands\/[A-Z]\w*\.tsx$/.test(f));

Deno.test("lib/ never reaches routes/ or server/, even through other modules", async () => {
  const { code, types } = await moduleGraph(["main.ts"]);
  const both = new Map([...code].map(([k, v]) => [k, new Set([...v, ...types.get(k)!])]));
  const bad: string[] = [];
  for (const m of both.keys()) {
    if (!m.startsWith("lib/")) continue;
    for (const d of reachable(both, m)) {
      if (d.startsWith("routes/") || d.startsWith("server/")) bad.push(`${m} → … → ${d}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("domain folders of lib/ import each other without cycles", async () => {
  const { code } = await moduleGraph(["main.ts"]);
  const folder = (m: string) => {
    const parts = m.split("/");
    return parts.length > 2 ? `lib/${parts[1]}` : m;
  };
  const folders = new Map<string, Set<string>>();
  for (const [m, deps] of code) {
    if (!m.startsWith("lib/")) continue;
    const f = folder(m);
    const set = folders.get(f) ?? new Set<string>();
    for (const d of deps) if (d.startsWith("lib/") && folder(d) !== f) set.add(folder(d));
    folders.set(f, set);
  }
  const cycles: string[] = [];
  for (const f of folders.keys()) {
    if (reachable(folders, f).has(f)) {
      const back = [...folders.get(f)!].filter((d) => reachable(folders, d).has(f));
      cycles.push(`${f} ⇄ ${back.join(", ")}`);
    }
  }
  assert.deepEqual(cycles, []);
  assert.deepEqual(
    // utilities, not domain code: errors, ids, and the in-process per-key queue
    [...(folders.get("lib/kv") ?? [])].filter((d) =>
      !["lib/errors.ts", "lib/ids.ts", "lib/mutex.ts"].includes(d)
    ),
    [],
    "lib/kv depends on no domain code",
  );
});

Deno.test("islands ship only islands and components, and use lib/ for types only", async () => {
  const entries = await islands();
  const { code } = await moduleGraph(entries);
  const bad: string[] = [];
  for (const island of entries) {
    for (const d of reachable(code, island)) {
      if (!d.startsWith("islands/") && !d.startsWith("components/")) bad.push(`${island} → ${d}`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("Deno KV is read and written only in lib/kv/", async () => {
  const KV_CALL =
    /\bkv\b\)?\s*\.\s*(get|getMany|list|set|delete|atomic|enqueue|listenQueue|watch)\s*[<(]|\.atomic\(\)/;
  const bad: string[] = [];
  for (const dir of ["lib", "routes", "server", "components", "islands"]) {
    let files: string[] = [];
    try {
      files = await sourceFiles(dir);
    } catch {
      continue; // the folder does not exist (yet)
    }
    for (const f of files) {
      if (f.startsWith("lib/kv/") || /_test\.tsx?$/.test(f)) continue;
      const lines = (await Deno.readTextFile(new URL(f, ROOT))).split("\n");
      lines.forEach((line, i) => {
        if (KV_CALL.test(line)) bad.push(`${f}:${i + 1}: ${line.trim()}`);
      });
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("no source file outside tests is over 400 lines", async () => {
  const big: string[] = [];
  for (const dir of ["lib", "routes", "server", "components", "islands", "tasks", "sdk/src"]) {
    let files: string[] = [];
    try {
      files = await sourceFiles(dir);
    } catch {
      continue;
    }
    for (const f of [...files, "main.ts", "dev.ts"]) {
      if (/_test\.tsx?$/.test(f)) continue;
      const n = (await Deno.readTextFile(new URL(f, ROOT))).split("\n").length;
      if (n > 400) big.push(`${f}: ${n}`);
    }
  }
  assert.deepEqual([...new Set(big)], []);
});
