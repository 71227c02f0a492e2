/**
 * Watching the processes that started this one (Linux `/proc`; elsewhere nothing is watched).
 * `tasks/start.ts` uses it: npx and `deno task` sit between a supervisor and the server, and a
 * signal sent to npx alone is not passed on, which left the server running with its port.
 * Reading another process's `/proc` entry needs Deno's full permissions: the watcher runs in the
 * task, not in the server.
 */

/** Start time (clock ticks since boot) of a live process, or null when it is gone. */
function startTime(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // the command may hold spaces and parentheses: the fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // a zombie (Z) or dead (X) process has ended, even while nobody has reaped it yet
    if (fields[0] === "Z" || fields[0] === "X") return null;
    return fields[19] ?? null; // starttime
  } catch {
    return null;
  }
}

function parentOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

/** This process's ancestors up to `depth` (not pid 1), with their start times. */
export function ancestors(depth = 4): { pid: number; started: string }[] {
  const out: { pid: number; started: string }[] = [];
  let pid = parentOf(Deno.pid);
  while (pid !== null && pid > 1 && out.length < depth) {
    const started = startTime(pid);
    if (started === null) break;
    out.push({ pid, started });
    pid = parentOf(pid);
  }
  return out;
}

/**
 * Calls `onGone` once when one of the processes that started this one (up to 4 levels) has
 * ended (a pid reused by a new process counts as ended). Answers a stop function.
 */
export function watchAncestors(onGone: () => void, everyMs = 1000): () => void {
  const watched = ancestors();
  if (watched.length === 0) return () => {};
  const timer = setInterval(() => {
    if (watched.some((a) => startTime(a.pid) !== a.started)) {
      clearInterval(timer);
      onGone();
    }
  }, everyMs);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
