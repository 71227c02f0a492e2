/** Helpers every KV module shares: checked read-modify-write, chunked reads, list pages. */
import { ConflictError } from "@/lib/errors.ts";

/** Returned by an attempt whose commit lost a race; the helper runs it again. */
export const RETRY = Symbol("retry");

/**
 * Runs `attempt` (read → check → commit) until it returns something other than `RETRY`.
 * After `attempts` lost races it throws a `ConflictError` (409) naming `what`: never a blind
 * overwrite, never a 500.
 */
export async function retryAtomic<T>(
  what: string,
  attempt: () => Promise<T | typeof RETRY>,
  attempts = 10,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const out = await attempt();
    if (out !== RETRY) return out;
    if (i > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * i));
  }
  throw new ConflictError(`Cannot ${what}: too many concurrent changes, try again`);
}

/** What an `updateChecked` change decides: write `next` (null deletes) and answer `result`. */
export type Change<T, R> = { next: T | null; result: R } | { result: R };

/**
 * The read → check → set of one key, in the one retry loop: `change` sees the current value (or
 * null) and answers `{next, result}` to write, or `{result}` to leave it as it is; it may throw a
 * domain error to refuse (nothing is written). The write is checked on the versionstamp read.
 * With a `guard` (another key, named from the current value), `change` also sees that entry's
 * value, read in the same attempt, and the write is checked on it too: a change decided on a
 * count (a tier's payers) fails when the count moves in between, and the next attempt sees it.
 */
export function updateChecked<T, R>(
  kv: Deno.Kv,
  key: Deno.KvKey,
  o: {
    what: string;
    change: (cur: T | null, guarded: unknown) => Change<T, R>;
    guard?: ((cur: T | null) => Deno.KvKey | null) | undefined;
    expireIn?: number;
    /** More mutations for the same commit (an epoch bump …). */
    also?: (op: Deno.AtomicOperation) => Deno.AtomicOperation;
  },
): Promise<R> {
  return retryAtomic(o.what, async () => {
    const cur = await kv.get<T>(key);
    const guardKey = o.guard?.(cur.value) ?? null;
    const guarded = guardKey ? await kv.get(guardKey) : null;
    const decided = o.change(cur.value, guarded?.value ?? null);
    if (!("next" in decided)) return decided.result;
    const checked = kv.atomic().check(cur, ...(guarded ? [guarded] : []));
    const op = o.also ? o.also(checked) : checked;
    const res = decided.next === null
      ? await op.delete(key).commit()
      : await op.set(key, decided.next, o.expireIn ? { expireIn: o.expireIn } : {}).commit();
    return res.ok ? decided.result : RETRY;
  });
}

/** Deno KV limits `getMany` to 10 keys: this reads any number in chunks of 10. */
export async function getManyChunked<T>(
  kv: Deno.Kv,
  keys: Deno.KvKey[],
): Promise<Deno.KvEntryMaybe<T>[]> {
  const out: Deno.KvEntryMaybe<T>[] = [];
  for (let i = 0; i < keys.length; i += 10) {
    out.push(...await kv.getMany<T[]>(keys.slice(i, i + 10)));
  }
  return out;
}

/**
 * One page of a KV list: its entries, and the cursor of the page after them (null when this page
 * came short of `limit`: nothing follows). A cursor the list never gave out makes KV throw
 * "invalid cursor", which callers answer as 400 (lib/http/errors.ts).
 */
export async function listPage<T>(
  kv: Deno.Kv,
  selector: Deno.KvListSelector,
  o: { limit: number; cursor?: string | undefined; reverse?: boolean },
): Promise<{ entries: Deno.KvEntry<T>[]; nextCursor: string | null }> {
  const iter = kv.list<T>(selector, {
    limit: o.limit,
    ...(o.reverse ? { reverse: true } : {}),
    ...(o.cursor ? { cursor: o.cursor } : {}),
  });
  const entries: Deno.KvEntry<T>[] = [];
  for await (const e of iter) entries.push(e);
  return { entries, nextCursor: entries.length === o.limit && iter.cursor ? iter.cursor : null };
}
