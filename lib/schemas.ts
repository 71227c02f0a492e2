/**
 * Caller-supplied URLs and return paths, checked in one place (CONTRACT "Hardening rules"):
 * redirect targets end up in `Location` headers and provider objects, so a value that fails
 * here never reaches either.
 */
import { STRIPE_CURRENCIES } from "@/components/currency.ts";
import { z } from "zod";

export const MAX_URL_LENGTH = 2048;

/** C0 controls, space, DEL, C1 controls and any other Unicode white space. */
// deno-lint-ignore no-control-regex
const BAD_CHAR_RE = /[\u0000-\u0020\u007f-\u009f\s]/u;

/** An absolute http(s) URL of at most 2048 characters with no control characters or spaces. */
export function isHttpUrl(v: string): boolean {
  if (v.length > MAX_URL_LENGTH || BAD_CHAR_RE.test(v) || !/^https?:\/\/[^/?#]/i.test(v)) {
    return false;
  }
  try {
    const u = new URL(v);
    return (u.protocol === "http:" || u.protocol === "https:") && u.hostname !== "";
  } catch {
    return false;
  }
}

/** A path on this server (no scheme, no `//host`, no backslash, no controls or spaces). */
export function isLocalPath(v: string): boolean {
  return v.length <= MAX_URL_LENGTH && !BAD_CHAR_RE.test(v) && /^\/(?![/\\])[^\\]*$/.test(v);
}

/** An image of this server's own asset store, named by path (`/api/assets/…`). */
export function isAssetPath(v: string): boolean {
  return isLocalPath(v) && v.startsWith("/api/assets/");
}

const HTTP_URL_MESSAGE =
  "must be an absolute http(s) URL of at most 2048 characters, without control characters or spaces";

/** Where a provider sends the browser back (`successUrl`, `cancelUrl`, `returnUrl`). */
export const HttpUrl = z.string().refine(isHttpUrl, HTTP_URL_MESSAGE);

/**
 * Metadata as Stripe keeps it: at most 50 keys of up to 40 characters, each value a string of up
 * to 500; a number or boolean is kept as its string, as Stripe keeps it (`{n: 1}` reads back
 * `{n: "1"}`).
 */
export const Metadata = z.record(
  z.string().max(40),
  z.union([z.string(), z.number(), z.boolean()]).transform(String).pipe(z.string().max(500)),
).refine((m) => Object.keys(m).length <= 50, "at most 50 keys");

/** An email address as a caller gives it: trimmed and lowercased, at most 254 characters. */
export const Email = z.string().trim().toLowerCase().pipe(z.email().max(254));

/** `next` and `returnTo`: same-origin paths only, so no redirect leaves this server. */
export const LocalPath = z.string().refine(isLocalPath, "must be a path on this server");

/** A product image: an http(s) URL, or a path of this server's own `/api/assets/…`. */
export const ImageUrl = z.string().refine(
  (v) => isHttpUrl(v) || isAssetPath(v),
  `${HTTP_URL_MESSAGE}, or an /api/assets/… path of this server`,
);

/** A currency Stripe can charge in, lowercase ("usd", "jpy"). */
export const CurrencyCode = z.string().refine(
  (v) => STRIPE_CURRENCIES.has(v),
  "must be a lowercase ISO 4217 code that Stripe supports (usd, eur, jpy …)",
);
