/**
 * Start-up of the embedded default: the data directory (private to the server's user), the KV
 * file and the app secret. Anything wrong is a `ConfigError` naming the setting, which `main.ts`
 * prints as one line before exiting with 1.
 */
import { ConfigError } from "@/lib/config.ts";
import { randomBase62 } from "@/lib/ids.ts";

const reason = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0];

/**
 * Makes `DATA_DIR` (mode 0700) and checks that it can be written. New files the process makes
 * are private to its user (umask 077), and the KV files already there are made 0600.
 */
export async function prepareDataDir(dir: string): Promise<void> {
  try {
    Deno.umask(0o077);
  } catch {
    // not on every platform; the chmods below still apply
  }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
    await Deno.chmod(dir, 0o700);
    const probe = `${dir}/.write-probe-${randomBase62(8)}`;
    await Deno.writeTextFile(probe, "ok", { mode: 0o600 });
    await Deno.remove(probe);
    for (const name of ["kv.sqlite3", "kv.sqlite3-wal", "kv.sqlite3-shm", "app_secret"]) {
      await Deno.chmod(`${dir}/${name}`, 0o600).catch(() => {});
    }
  } catch (err) {
    throw new ConfigError(`DATA_DIR ${dir} is not a usable directory: ${reason(err)}`);
  }
}

/** Opens the local KV file under `dir`; a failure names DATA_DIR. */
export async function openLocalKv(dir: string): Promise<Deno.Kv> {
  try {
    const kv = await Deno.openKv(`${dir}/kv.sqlite3`);
    await Deno.chmod(`${dir}/kv.sqlite3`, 0o600).catch(() => {});
    return kv;
  } catch (err) {
    throw new ConfigError(`DATA_DIR ${dir}: cannot open the KV store: ${reason(err)}`);
  }
}

/** The shortest app secret taken, from APP_SECRET or the generated file. */
export const MIN_APP_SECRET = 32;

/**
 * The app secret: APP_SECRET when set, else `DATA_DIR/app_secret`, generated (48 random
 * characters, mode 0600) when missing. A file with a secret shorter than 32 characters, or one
 * that can't be read, stops start-up.
 */
export async function loadAppSecret(dir: string, configured: string | null): Promise<string> {
  if (configured) return configured;
  const path = `${dir}/app_secret`;
  let secret: string;
  try {
    secret = (await Deno.readTextFile(path)).trim();
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) {
      throw new ConfigError(`DATA_DIR ${path} can't be read: ${reason(err)}`);
    }
    secret = randomBase62(48);
    try {
      await Deno.writeTextFile(path, secret, { mode: 0o600, createNew: true });
    } catch (err2) {
      throw new ConfigError(`DATA_DIR ${path} can't be written: ${reason(err2)}`);
    }
  }
  if (secret.length < MIN_APP_SECRET) {
    throw new ConfigError(
      `DATA_DIR ${path}: the app secret must be at least ${MIN_APP_SECRET} characters (set APP_SECRET or remove the file to generate one)`,
    );
  }
  return secret;
}
