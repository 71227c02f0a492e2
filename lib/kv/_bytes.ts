/**
 * Values the meter writes on every commit, stored as bytes instead of V8-serialised: Deno KV
 * stores a `Uint8Array` as it is and a `KvU64` as eight bytes, while any other value goes through
 * V8's serialiser, whose fixed cost alone (~1.5 µs for a number, measured in this process) is
 * paid on the thread that answers requests. JSON text is written into slabs allocated 64 KiB at
 * a time (allocating a small `Uint8Array` costs more than encoding into one): each value gets a
 * region of its own that nothing writes again, since KV may read it after `commit()` returns.
 */
const SLAB_BYTES = 64 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
let slab = new Uint8Array(0);
let used = 0;

/** UTF-8 bytes of `text`, in a region of a slab that is never written again. */
export function utf8Bytes(text: string): Uint8Array {
  const most = text.length * 3; // the most bytes a UTF-16 string encodes to
  if (slab.length - used < most) {
    slab = new Uint8Array(Math.max(SLAB_BYTES, most));
    used = 0;
  }
  const { written } = encoder.encodeInto(text, slab.subarray(used));
  const out = slab.subarray(used, used + written);
  used += written;
  return out;
}

/** `value` as JSON text in UTF-8 bytes (see `utf8Bytes`). */
export const jsonBytes = (value: unknown): Uint8Array => utf8Bytes(JSON.stringify(value));

/** The value of bytes `jsonBytes` wrote. */
export const fromJsonBytes = (bytes: Uint8Array): unknown => JSON.parse(decoder.decode(bytes));

/** A sequence number as a `KvU64` (stored as eight bytes, no serialiser). */
export const seqValue = (n: number) => new Deno.KvU64(BigInt(n));

/** A sequence number as stored: a `KvU64`, or a number written before; 0 when there is none. */
export function seqOf(v: unknown): number {
  if (v instanceof Deno.KvU64) return Number(v.value);
  return typeof v === "number" ? v : 0;
}
