/**
 * Process handling for `npx … task start`: npx and `deno task` sit between a supervisor and the
 * server, and a signal sent to npx alone is not passed on, which left the server running with
 * its port. With the watch on, the server notices when any process that started it is gone
 * and shuts down cleanly. Linux only (/proc); elsewhere it does nothing. Supervisors should
 * still run `deno run … main.ts` directly (README, "Running it for real").
 */

/** Start time (clock ticks since boot) of a live process, or null when it is gone. */
function startTime(pid: number): string | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // the command may hold spaces and parentheses: the fields start after the last ')'
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
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
