/** Request bodies read under a size limit while they stream, so memory stays bounded. */
import { AppError } from "@/lib/errors.ts";

/** The error for a body over `max` bytes: the same from the hot path and the full app. */
export function tooLarge(max: number): AppError {
  return new AppError("payload_too_large", `Request body is over ${max} bytes`);
}

/**
 * The body as text, or null when it is (or declares itself) longer than `max` bytes: then at
 * most `max` bytes plus one chunk were read and the rest of the stream is cancelled.
 */
export async function readTextLimited(req: Request, max: number): Promise<string | null> {
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    if (Number(declared) > max) {
      await req.body?.cancel();
      return null;
    }
    // a declared length is what the server reads, no more: the native reader is safe and fast
    if (!req.headers.has("transfer-encoding")) return await req.text();
  }
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return new TextDecoder().decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return new TextDecoder().decode(all);
}
