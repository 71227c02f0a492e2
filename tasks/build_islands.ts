/**
 * `deno task build`: bundles the islands into static/build, and the SDK (tarball and ES module)
 * into static/build/sdk; prints their sizes.
 */
import { buildIslands } from "./islands.ts";
import { buildSdk } from "./sdk_build.ts";

const root = new URL("../", import.meta.url).pathname;
const sizes = await buildIslands(root);
const sdkSizes = await buildSdk(root);
const total = Object.values(sizes).reduce((a, b) => a + b, 0);
const lines = Object.entries(sizes).sort(([a], [b]) => a.localeCompare(b)).map(([f, n]) =>
  `  ${f.padEnd(28)} ${(n / 1024).toFixed(1)} KiB`
);
// deno-lint-ignore no-console
console.log(
  `islands built: ${
    (total / 1024).toFixed(1)
  } KiB in ${lines.length} files (uPlot is loaded only by the chart)\n${lines.join("\n")}`,
);
// deno-lint-ignore no-console
console.log(
  `sdk built: ${
    Object.entries(sdkSizes).map(([f, n]) => `${f} ${(n / 1024).toFixed(1)} KiB`).join(", ")
  }`,
);
