/** Development: runs the server with file watching on the embedded defaults. */
const cmd = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--watch",
    "--unstable-kv",
    "--allow-net",
    "--allow-env",
    "--allow-read",
    "--allow-write",
    new URL("./main.ts", import.meta.url).pathname,
  ],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
});
const status = await cmd.spawn().status;
Deno.exit(status.code);
