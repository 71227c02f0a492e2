/**
 * The SDK as this server serves it: `static/build/sdk/dream-api-sdk.tgz` (npm's own `npm pack`
 * of sdk/, ESM + CommonJS, for `npm install <url>`) and `static/build/sdk/index.js` (one ES
 * module bundled by `deno bundle`, for browsers and `import` from Deno).
 */
export const SDK_FILES = { tarball: "dream-api-sdk.tgz", module: "index.js" } as const;

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  const out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed:\n${text}${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return text;
}

/** Builds both into `<root>static/build/sdk/`; returns their sizes in bytes. */
export async function buildSdk(root: string): Promise<Record<string, number>> {
  const sdk = `${root}sdk`;
  const outDir = `${root}static/build/sdk`;
  await Deno.remove(outDir, { recursive: true }).catch(() => {});
  await Deno.mkdir(outDir, { recursive: true });
  const quiet = ["--no-audit", "--no-fund", "--silent"];
  // `npm install` runs the package's `prepare` (the build); `npm pack` builds again (prepack)
  const hasTsc = await Deno.stat(`${sdk}/node_modules/typescript`).then(() => true, () => false);
  if (!hasTsc) await run("npm", ["install", ...quiet], sdk);
  const packed = (await run("npm", ["pack", "--silent", "--pack-destination", outDir], sdk))
    .trim().split("\n").pop()!;
  await Deno.rename(`${outDir}/${packed}`, `${outDir}/${SDK_FILES.tarball}`);
  await run(Deno.execPath(), [
    "bundle",
    "--quiet",
    "--platform",
    "browser",
    "--format",
    "esm",
    "--output",
    `${outDir}/${SDK_FILES.module}`,
    `${sdk}/src/index.ts`,
  ], root);
  const sizes: Record<string, number> = {};
  for (const f of Object.values(SDK_FILES)) sizes[f] = (await Deno.stat(`${outDir}/${f}`)).size;
  return sizes;
}
