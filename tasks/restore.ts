/**
 * `deno task restore <file> [--force]`: loads a backup (deno task backup) into the store under
 * DATA_DIR (default ./data). A store that holds anything is refused unless --force, which
 * empties it first. Stop the server before restoring.
 */
import { clearStore, hasEntries, loadBackup } from "@/lib/kv/backup.ts";

/** The task reports on stderr (stdout may carry the backup itself). */
const say = (m: string) => Deno.stderr.writeSync(new TextEncoder().encode(m + "\n"));

const args = Deno.args.filter((a) => a !== "--force");
const force = Deno.args.includes("--force");
const source = args[0];
if (!source) {
  say("usage: deno task restore <backup.jsonl> [--force]");
  Deno.exit(2);
}
const dataDir = Deno.env.get("DATA_DIR") ?? "./data";
await Deno.mkdir(dataDir, { recursive: true, mode: 0o700 });
const kv = await Deno.openKv(`${dataDir}/kv.sqlite3`);
try {
  if (await hasEntries(kv)) {
    if (!force) {
      say(`restore refused: ${dataDir} is not empty (use --force to replace it)`);
      Deno.exit(1);
    }
    await clearStore(kv);
  }
  const file = await Deno.open(source);
  const lines = file.readable.pipeThrough(new TextDecoderStream()).pipeThrough(
    new (class extends TransformStream<string, string> {
      constructor() {
        let rest = "";
        super({
          transform(chunk, ctl) {
            const parts = (rest + chunk).split("\n");
            rest = parts.pop()!;
            for (const p of parts) ctl.enqueue(p);
          },
          flush(ctl) {
            if (rest) ctl.enqueue(rest);
          },
        });
      }
    })(),
  );
  const n = await loadBackup(kv, lines, { now: Date.now() });
  say(`restore: ${n} entries from ${source} → ${dataDir}`);
} catch (err) {
  say(`restore failed: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
} finally {
  kv.close();
}
