/** `deno task build`: bundles the islands into static/build and prints their sizes. */
import { buildIslands } from "./islands.ts";

const sizes = await buildIslands(new URL("../", import.meta.url).pathname);
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
