/**
 * Reading a served request's headers one by one, and its small body at once, the way Deno's
 * own server reads them, without its `Headers` object or a body stream.
 *
 * A request served by Deno 2.9's `Deno.serve` keeps its headers on the native side until
 * `request.headers` is touched. Touching it builds a `Headers` object whose `get` validates the
 * name and whose first `has` copies every header into JavaScript, and it marks the request: once
 * the handler returns, Deno copies the whole header list again and sends the answer through a
 * promise instead of synchronously. The request's inner record (Deno's `InnerRequest`, the
 * request's own property under the symbol described "request") has a `header(name)` method
 * that reads one header natively, case-insensitively, with repeated headers joined by ", " —
 * what `Headers.get` answers, byte for byte (native_request_test.ts checks it against a real
 * server). `headerSource` gives that record when the request has one, and otherwise (a
 * `Request` made in JavaScript, another runtime or a Deno that no longer has it) an adapter
 * over `request.headers`. Measured on the headers floor (tasks/bare_server.ts, 10 000
 * customers): +9 % answers a second (docs/performance_journal.md, the seventh session).
 */

/** Reads one header of a request: its value (repeats joined by ", "), null when absent. */
export interface HeaderSource {
  header(name: string): string | null;
}

interface MaybeInner {
  header?: unknown;
  consumeTextBody?: unknown;
}

/** The symbol Deno keeps a request's inner record under: looked for once. */
let innerKey: symbol | null | undefined;

function findInnerKey(req: Request): symbol | null {
  for (const s of Object.getOwnPropertySymbols(req)) {
    if (s.description === "request") return s;
  }
  return null;
}

/** The public way, for requests without a native reader. */
export class HeadersAdapter implements HeaderSource {
  #headers: Headers;
  constructor(headers: Headers) {
    this.#headers = headers;
  }
  header(name: string): string | null {
    return this.#headers.get(name);
  }
}

function innerOf(req: Request): MaybeInner | undefined {
  if (innerKey === undefined) innerKey = findInnerKey(req);
  return innerKey === null
    ? undefined
    : (req as unknown as Record<symbol, MaybeInner | undefined>)[innerKey];
}

/** Where to read `req`'s headers from: its native reader when it has one, else `req.headers`. */
export function headerSource(req: Request): HeaderSource {
  const inner = innerOf(req);
  if (inner && typeof inner.header === "function") return inner as HeaderSource;
  return new HeadersAdapter(req.headers);
}

/**
 * The whole body as text, taken at once when the native side has received all of it (Deno's
 * `consumeTextBody`, what its own `Request.json()` uses); null when it can't say (not all of it
 * has arrived, or no native reader), and then `req.text()` still reads the body. The same text as
 * `req.text()`: invalid bytes become U+FFFD in both, and a leading byte order mark, which
 * `text()` drops (UTF-8 decode) and the native read keeps, is dropped here
 * (native_request_test.ts checks them against a real server). Read this way a small body costs
 * one synchronous call instead of a stream, its reader and a promise per chunk.
 */
export function bodyTextNow(req: Request): string | null {
  const inner = innerOf(req);
  if (!inner || typeof inner.consumeTextBody !== "function") return null;
  const text = (inner as { consumeTextBody(): string | null }).consumeTextBody();
  if (text === null || text === undefined) return null;
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
