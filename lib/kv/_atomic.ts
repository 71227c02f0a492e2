/** Retry helper for versionstamp-checked read-modify-write operations. */
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
