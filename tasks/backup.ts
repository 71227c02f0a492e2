/**
 * `deno task backup [file]`: a consistent JSON-lines snapshot of the whole store, while the
 * server runs (no lock on it). The local KV file under DATA_DIR (default ./data), or a remote KV
 * with KV_URL (+ DENO_KV_ACCESS_TOKEN). File "-" writes to stdout; default
 * backup-<time>.jsonl in the current directory.
 */
import { apiEntries, fileEntries, writeBackup } from "@/lib/kv/backup.ts";

/** The task reports on stderr (stdout may carry the backup itself). */
const say = (m: string) => Deno.stderr.writeSync(new TextEncoder().encode(m + "\n"));

const now = Date.now();
const target = Deno.args[0] ?? `backup-${new Date(now).toISOString().replace(/[:.]/g, "-")}.jsonl`;
const remote = Deno.env.get("KV_URL");
const dataDir = Deno.env.get("DATA_DIR") ?? "./data";
const file = `${dataDir}/kv.sqlite3`;
const out = target === "-" ? Deno.stdout.writable : (await Deno.open(target, {
  write: true,
  create: true,
  truncate: true,
  mode: 0o600, // a backup holds everything the store does: only its owner reads it
})).writable;
const writer = out.getWriter();
let kv: Deno.Kv | null = null;
try {
  if (!remote) await Deno.stat(file); // a clear message when there is no store here
  if (remote) kv = await Deno.openKv(remote);
  const n = await writeBackup(kv ? apiEntries(kv) : fileEntries(file, now), writer, {
    now,
    source: remote ? "remote" : file,
  });
  await writer.close();
  if (target !== "-") say(`backup: ${n} entries → ${target}`);
} catch (err) {
  say(`backup failed: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
} finally {
  kv?.close();
}
