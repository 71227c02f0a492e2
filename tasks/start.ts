/**
 * `deno task start`: runs the server (main.ts, with only the permissions it needs) as a child and
 * stands guard for it. npx sits between a supervisor and this task and passes no signal on: when
 * any process that started this one is gone (npx killed, the terminal closed), the server gets
 * SIGTERM and drains; SIGTERM and SIGINT sent here are passed on. Exits with the server's code.
 * Supervisors should run `deno run … main.ts` directly (README, "Running it for real").
 */
import { watchAncestors } from "@/lib/process.ts";
import { SERVER_RUN_ARGS } from "./server_process.ts";

const server = new Deno.Command(Deno.execPath(), {
  args: SERVER_RUN_ARGS,
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();

const pass = (signal: Deno.Signal) => () => {
  try {
    server.kill(signal);
  } catch {
    // it has ended already
  }
};
for (const signal of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(signal, pass(signal));
const stopWatching = watchAncestors(pass("SIGTERM"));
const { code } = await server.status;
stopWatching();
Deno.exit(code);
