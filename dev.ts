/** Development: builds the islands (again on every change under islands/) and runs the server with --watch. */
import { buildIslands } from "./tasks/islands.ts";

const root = new URL("./", import.meta.url).pathname;
const log = (m: string) => Deno.stderr.writeSync(new TextEncoder().encode(`[dev] ${m}\n`));

async function build() {
  try {
    const sizes = await buildIslands(root);
    log(`islands built (${Object.keys(sizes).length} files)`);
  } catch (err) {
    log(`island build failed: ${err instanceof Error ? err.message : err}`);
  }
}

await build();
const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--watch",
    "--unstable-kv",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    `${root}main.ts`,
  ],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

let timer: ReturnType<typeof setTimeout> | undefined;
(async () => {
  for await (const _ of Deno.watchFs(`${root}islands`)) {
    clearTimeout(timer);
    timer = setTimeout(build, 150);
  }
})();

const status = await server.status;
Deno.exit(status.code);
