/**
 * Reading a local Deno KV file as it is stored (SQLite, table `kv`), for backups: keys in the
 * FoundationDB tuple encoding Deno KV uses, values V8-serialised (1), little-endian u64 (2) or
 * raw bytes (3). And a JSON form of typed values in which KvU64, Uint8Array, Date and bigint
 * survive a round trip.
 */
import { deserialize } from "node:v8";

/** Decodes one stored key into its parts (strings, numbers, bigints, booleans, bytes). */
export function decodeKey(b: Uint8Array): Deno.KvKeyPart[] {
  const parts: Deno.KvKeyPart[] = [];
  let i = 0;
  const readEscaped = (): Uint8Array => {
    const out: number[] = [];
    while (i < b.length) {
      if (b[i] === 0x00) {
        if (b[i + 1] === 0xff) {
          out.push(0);
          i += 2;
          continue;
        }
        i++;
        break;
      }
      out.push(b[i++]!);
    }
    return new Uint8Array(out);
  };
  const bigFrom = (bytes: Uint8Array) => bytes.reduce((n, x) => (n << 8n) | BigInt(x), 0n);
  while (i < b.length) {
    const code = b[i++]!;
    if (code === 0x01) parts.push(readEscaped());
    else if (code === 0x02) parts.push(new TextDecoder().decode(readEscaped()));
    else if (code === 0x14) parts.push(0n);
    else if (code > 0x14 && code < 0x1d) {
      const n = code - 0x14;
      parts.push(bigFrom(b.subarray(i, i + n)));
      i += n;
    } else if (code > 0x0b && code < 0x14) {
      const n = 0x14 - code;
      parts.push(bigFrom(b.subarray(i, i + n)) - ((1n << BigInt(8 * n)) - 1n));
      i += n;
    } else if (code === 0x1d) {
      const n = b[i++]!;
      parts.push(bigFrom(b.subarray(i, i + n)));
      i += n;
    } else if (code === 0x0b) {
      const n = b[i++]! ^ 0xff;
      parts.push(bigFrom(b.subarray(i, i + n)) - ((1n << BigInt(8 * n)) - 1n));
      i += n;
    } else if (code === 0x21) {
      const bytes = b.slice(i, i + 8);
      i += 8;
      if (bytes[0]! & 0x80) bytes[0]! ^= 0x80;
      else for (let j = 0; j < 8; j++) bytes[j] = bytes[j]! ^ 0xff;
      parts.push(new DataView(bytes.buffer).getFloat64(0));
    } else if (code === 0x26) parts.push(false);
    else if (code === 0x27) parts.push(true);
    else throw new Error(`unknown key part type 0x${code.toString(16)}`);
  }
  return parts;
}

/** A stored value as Deno KV gives it back. */
export function decodeValue(v: Uint8Array, encoding: number): unknown {
  if (encoding === 1) return deserialize(v);
  if (encoding === 2) {
    return new Deno.KvU64(new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true));
  }
  if (encoding === 3) return new Uint8Array(v);
  throw new Error(`unknown value encoding ${encoding}`);
}

const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));
const unb64 = (s: string) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

/** JSON for typed values: `{"$u64": "7"}`, `{"$bytes": "AQI="}`, `{"$date": iso}`, `{"$bigint": "5"}`. */
export function toJson(value: unknown): unknown {
  if (value instanceof Deno.KvU64) return { $u64: String(value.value) };
  if (value instanceof Uint8Array) return { $bytes: b64(value) };
  if (value instanceof Date) return { $date: value.toISOString() };
  if (typeof value === "bigint") return { $bigint: String(value) };
  if (Array.isArray(value)) return value.map(toJson);
  if (value && typeof value === "object") {
    if (value instanceof Map || value instanceof Set || value instanceof RegExp) {
      throw new Error(`unsupported value type ${value.constructor.name}`);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJson(v)]));
  }
  return value;
}

export function fromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromJson);
  if (value && typeof value === "object") {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1) {
      if (typeof o.$u64 === "string") return new Deno.KvU64(BigInt(o.$u64));
      if (typeof o.$bytes === "string") return unb64(o.$bytes);
      if (typeof o.$date === "string") return new Date(o.$date);
      if (typeof o.$bigint === "string") return BigInt(o.$bigint);
    }
    return Object.fromEntries(keys.map((k) => [k, fromJson(o[k])]));
  }
  return value;
}
