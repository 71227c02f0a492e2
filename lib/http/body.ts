/** Request bodies read under a size limit while they stream, so memory stays bounded. */
import { AppError } from "@/lib/errors.ts";
import { bodyTextNow, type HeaderSource, headerSource } from "@/lib/http/native_request.ts";

/** The error for a body over `max` bytes: the same from the hot path and the full app. */
export function tooLarge(max: number): AppError {
  return new AppError("payload_too_large", `Request body is over ${max} bytes`);
}

/** The whole stream, or null as soon as it passes `max` bytes (the rest is cancelled). */
async function readStreamLimited(
  body: ReadableStream<Uint8Array>,
  max: number,
): Promise<Uint8Array | null> {
  const reader = body.getReader();
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
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.byteLength;
  }
  return all;
}

/**
 * What the request's `Content-Length` says against `max`: "over" (it declares more: cancel the
 * body, read nothing), "bounded" (it declares no more, and without `Transfer-Encoding` the
 * server reads no further than that: the native reader is safe and fast), else "stream" (counted
 * while it is read).
 */
function declaredLength(hs: HeaderSource, max: number): "over" | "bounded" | "stream" {
  const declared = hs.header("content-length");
  if (declared === null) return "stream";
  if (Number(declared) > max) return "over";
  return hs.header("transfer-encoding") !== null ? "stream" : "bounded";
}

/**
 * The body as text at once, without a promise, when it declares a length within `max` and has
 * all arrived (see `bodyTextNow`); else undefined, and `readTextLimited` reads it.
 */
export function textNowLimited(req: Request, max: number, hs: HeaderSource): string | undefined {
  return declaredLength(hs, max) === "bounded" ? bodyTextNow(req) ?? undefined : undefined;
}

/**
 * The body as text, or null when it is (or declares itself) longer than `max` bytes: then at
 * most `max` bytes plus one chunk were read and the rest of the stream is cancelled. `hs`: where
 * its headers are read (the caller's, when it has one already).
 */
export async function readTextLimited(
  req: Request,
  max: number,
  hs: HeaderSource = headerSource(req),
): Promise<string | null> {
  const declared = declaredLength(hs, max);
  if (declared === "over") {
    await req.body?.cancel();
    return null;
  }
  if (declared === "bounded") return bodyTextNow(req) ?? await req.text();
  if (!req.body) return "";
  const bytes = await readStreamLimited(req.body, max);
  return bytes === null ? null : new TextDecoder().decode(bytes);
}

const FORBIDDEN_METHOD_RE = /^(connect|trace|track)$/i;

/**
 * A request whose body is at most `max` bytes, counted while it streams: the same request when
 * it declares its length (or has no body), else a new one carrying the bytes read; null when it
 * is longer (nothing more is read). The new request is built from the url, method, headers and
 * bytes only — never from the original request itself, whose `signal` Deno would warn about.
 */
export async function limitBody(req: Request, max: number): Promise<Request | null> {
  // a method no request may be made with (fetch's forbidden TRACE, TRACK, CONNECT) has no route
  // here: its body is dropped unread and the request goes on as it is, to its 404
  if (FORBIDDEN_METHOD_RE.test(req.method)) {
    await req.body?.cancel();
    return req;
  }
  const declared = declaredLength(headerSource(req), max);
  if (declared === "over") {
    await req.body?.cancel();
    return null;
  }
  if (!req.body || declared === "bounded") return req;
  const bytes = await readStreamLimited(req.body, max);
  if (bytes === null) return null;
  const bodyless = req.method === "GET" || req.method === "HEAD";
  return new Request(req.url, {
    method: req.method,
    headers: req.headers,
    ...(bodyless ? {} : { body: bytes as Uint8Array<ArrayBuffer> }),
  });
}
