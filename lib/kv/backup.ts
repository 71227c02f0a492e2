/**
 * Backups of the whole store as JSON lines, and restores. A local KV file is read straight from
 * SQLite inside one read transaction: a consistent snapshot while the server keeps writing (no
 * lock on it), with each entry's expiry. A remote KV (`KV_URL`, Deno Deploy or KV Connect) is
 * read through the KV API, page by page (no expiries: the API does not expose them).
 * Line 1 is a header; then one `{"key", "value", "expireAt"}` per entry, typed values kept
 * (see codec.ts).
 */
import { decodeKey, decodeValue, fromJson, toJson } from "@/lib/kv/codec.ts";

export const BACKUP_FORMAT = "dream-api-backup/1";

export interface BackupLine {
  key: unknown;
  value: unknown;
  expireAt: string | null;
}

/** Every live entry of a local KV file, in key order, from one consistent snapshot. */
export async function* fileEntries(
  path: string,
  now: number,
): AsyncGenerator<{ key: Deno.KvKey; value: unknown; expireAt: number | null }> {
  const { DatabaseSync } = await import("node:sqlite");
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec("BEGIN"); // a read transaction: the snapshot every row below comes from
    const rows = db.prepare("SELECT k, v, v_encoding, expiration_ms FROM kv ORDER BY k").iterate();
    for (const r of rows as Iterable<Record<string, unknown>>) {
      const expires = Number(r.expiration_ms);
      if (expires >= 0 && expires <= now) continue; // expired, not yet swept
      yield {
        key: decodeKey(r.k as Uint8Array),
        value: decodeValue(r.v as Uint8Array, Number(r.v_encoding)),
        expireAt: expires >= 0 ? expires : null,
      };
    }
    db.exec("COMMIT");
  } finally {
    db.close();
  }
}

/** Every entry of an open KV (remote stores), through the API. */
export async function* apiEntries(
  kv: Deno.Kv,
): AsyncGenerator<{ key: Deno.KvKey; value: unknown; expireAt: number | null }> {
  for await (const e of kv.list({ prefix: [] }, { batchSize: 500 })) {
    yield { key: e.key, value: e.value, expireAt: null };
  }
}

/** Writes the entries as JSON lines; answers how many. */
export async function writeBackup(
  entries: AsyncIterable<{ key: Deno.KvKey; value: unknown; expireAt: number | null }>,
  out: WritableStreamDefaultWriter<Uint8Array>,
  o: { now: number; source: string },
): Promise<number> {
  const enc = new TextEncoder();
  await out.write(
    enc.encode(
      JSON.stringify({
        format: BACKUP_FORMAT,
        createdAt: new Date(o.now).toISOString(),
        source: o.source,
      }) + "\n",
    ),
  );
  let n = 0;
  for await (const e of entries) {
    const line: BackupLine = {
      key: toJson(e.key),
      value: toJson(e.value),
      expireAt: e.expireAt === null ? null : new Date(e.expireAt).toISOString(),
    };
    await out.write(enc.encode(JSON.stringify(line) + "\n"));
    n++;
  }
  return n;
}

/** True when the store holds any entry. */
export async function hasEntries(kv: Deno.Kv): Promise<boolean> {
  for await (const _ of kv.list({ prefix: [] }, { limit: 1 })) return true;
  return false;
}

/** Deletes every entry (restore --force). */
export async function clearStore(kv: Deno.Kv): Promise<void> {
  let keys: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix: [] })) {
    keys.push(e.key);
    if (keys.length === 500) {
      let op = kv.atomic();
      for (const k of keys) op = op.delete(k);
      await op.commit();
      keys = [];
    }
  }
  let op = kv.atomic();
  for (const k of keys) op = op.delete(k);
  await op.commit();
}

/**
 * Loads backup lines into `kv` (expired entries skipped, the others with the time they had
 * left). Answers how many entries were written.
 */
export async function loadBackup(
  kv: Deno.Kv,
  lines: AsyncIterable<string>,
  o: { now: number },
): Promise<number> {
  let n = 0;
  let first = true;
  let op = kv.atomic();
  let pending = 0;
  let bytes = 0;
  for await (const raw of lines) {
    if (!raw.trim()) continue;
    const parsed = JSON.parse(raw);
    if (first) {
      first = false;
      if (parsed.format !== BACKUP_FORMAT) throw new Error(`not a ${BACKUP_FORMAT} file`);
      continue;
    }
    const line = parsed as BackupLine;
    const expireAt = line.expireAt ? Date.parse(line.expireAt) : null;
    if (expireAt !== null && expireAt <= o.now) continue;
    op = op.set(
      fromJson(line.key) as Deno.KvKey,
      fromJson(line.value),
      expireAt !== null ? { expireIn: expireAt - o.now } : {},
    );
    n++;
    bytes += raw.length;
    // commits stay well inside Deno KV's limits (mutations and total size per commit)
    if (++pending === 200 || bytes > 400_000) {
      if (!(await op.commit()).ok) throw new Error("restore commit failed");
      op = kv.atomic();
      pending = 0;
      bytes = 0;
    }
  }
  if (first) throw new Error("empty backup file");
  if (pending && !(await op.commit()).ok) throw new Error("restore commit failed");
  return n;
}
