/** The island build: one browser bundle per islands/PascalCase.tsx, and the import boundary check. */

/** Imports that would ship server code (KV, payments, storage …) to browsers. */
export const FORBIDDEN_IMPORT =
  /from\s+["']@\/lib\/(kv|payments|storage|billing|store|accounts|services|app)\b/;

/** Throws naming the first island file that imports server-only code (type-only imports are fine). */
export async function checkIslandImports(dir: string): Promise<void> {
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !/\.tsx?$/.test(e.name)) continue;
    const src = await Deno.readTextFile(`${dir}/${e.name}`);
    for (const line of src.split("\n")) {
      if (FORBIDDEN_IMPORT.test(line) && !/^\s*import\s+type\b/.test(line)) {
        throw new Error(`islands/${e.name} imports server-only code: ${line.trim()}`);
      }
    }
  }
}

/** The island names: PascalCase .tsx files (helpers start with _ or a lowercase letter). */
export async function islandNames(dir: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (e.isFile && /^[A-Z][A-Za-z0-9]*\.tsx$/.test(e.name)) {
      names.push(e.name.replace(/\.tsx$/, ""));
    }
  }
  return names.sort();
}

/** Bundles every island (code-split, minified) into `outDir`; returns file sizes in bytes. */
export async function buildIslands(root: string): Promise<Record<string, number>> {
  const islandsDir = `${root}islands`;
  const entriesDir = `${root}.islands`;
  const outDir = `${root}static/build`;
  await checkIslandImports(islandsDir);
  const names = await islandNames(islandsDir);
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
    const { code } = await new Deno.Command(Deno.execPath(), {
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
    }).output();
    if (code !== 0) throw new Error("deno bundle failed");
  }
  // entries get their content's hash in the name, like the chunks (whose hashed names they
  // import, so an entry's hash covers its chunks): every file is served as immutable, and
  // static/build/manifest.json maps each island to its file for the pages
  const manifest: Record<string, string> = {};
  for (const n of names) {
    const code = await Deno.readFile(`${outDir}/${n}.js`);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", code));
    const hash = [...digest.slice(0, 5)].map((b) => b.toString(16).padStart(2, "0")).join("")
      .toUpperCase();
    manifest[n] = `${n}-${hash}.js`;
    await Deno.rename(`${outDir}/${n}.js`, `${outDir}/${manifest[n]}`);
  }
  await Deno.writeTextFile(`${outDir}/manifest.json`, JSON.stringify(manifest, null, 2));
  const sizes: Record<string, number> = {};
  for await (const e of Deno.readDir(outDir)) {
    if (e.name.endsWith(".js")) sizes[e.name] = (await Deno.stat(`${outDir}/${e.name}`)).size;
  }
  await Deno.writeTextFile(`${outDir}/sizes.json`, JSON.stringify(sizes, null, 2));
  return sizes;
}
