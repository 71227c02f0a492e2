/**
 * Builds one browser bundle per island (islands/PascalCase.tsx → static/build/Name.js, shared
 * code split into chunks) with `deno bundle`, and reports their sizes in static/build/sizes.json.
 * Also refuses islands that import server-only code (lib/kv, payments, storage).
 */
const root = new URL("../", import.meta.url).pathname;
const islandsDir = `${root}islands`;
const entriesDir = `${root}.islands`;
const outDir = `${root}static/build`;

const names: string[] = [];
for await (const e of Deno.readDir(islandsDir)) {
  if (e.isFile && /^[A-Z][A-Za-z0-9]*\.tsx$/.test(e.name)) names.push(e.name.replace(/\.tsx$/, ""));
}
names.sort();

// The boundary: islands ship to browsers, so they must not reach server-only modules.
const FORBIDDEN = /from\s+["']@\/lib\/(kv|payments|storage|billing|store|accounts|services|app)\b/;
for await (const e of Deno.readDir(islandsDir)) {
  if (!e.isFile) continue;
  const src = await Deno.readTextFile(`${islandsDir}/${e.name}`);
  for (const line of src.split("\n")) {
    if (FORBIDDEN.test(line) && !/^\s*import\s+type\b/.test(line)) {
      throw new Error(`islands/${e.name} imports server-only code: ${line.trim()}`);
    }
  }
}

await Deno.remove(entriesDir, { recursive: true }).catch(() => {});
await Deno.mkdir(entriesDir, { recursive: true });
await Deno.remove(outDir, { recursive: true }).catch(() => {});
await Deno.mkdir(outDir, { recursive: true });
for (const n of names) {
  await Deno.writeTextFile(
    `${entriesDir}/${n}.ts`,
    `import { hydrateIslands } from "../islands/_hydrate.ts";\nimport C from "../islands/${n}.tsx";\n` +
      `hydrateIslands(${JSON.stringify(n)}, C as never);\n`,
  );
}
if (names.length) {
  const cmd = new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--code-splitting",
      "--minify",
      "--outdir",
      outDir,
      ...names.map((n) => `${entriesDir}/${n}.ts`),
    ],
    cwd: root,
    stdout: "inherit",
    stderr: "inherit",
  });
  const { code } = await cmd.output();
  if (code !== 0) Deno.exit(code);
}
const sizes: Record<string, number> = {};
for await (const e of Deno.readDir(outDir)) {
  if (e.name.endsWith(".js")) sizes[e.name] = (await Deno.stat(`${outDir}/${e.name}`)).size;
}
await Deno.writeTextFile(`${outDir}/sizes.json`, JSON.stringify(sizes, null, 2));
const total = Object.values(sizes).reduce((a, b) => a + b, 0);
// deno-lint-ignore no-console
console.log(
  `islands: ${names.length} built, ${(total / 1024).toFixed(1)} KiB in ${
    Object.keys(sizes).length
  } files`,
);
