/**
 * Response policy written once: the page security headers (CSP …), the CORS rules of the
 * browser-safe API paths and the request-id rule, shared by the full app and the hot path.
 */
import { newRequestId } from "@/lib/ids.ts";

/** The longest incoming `X-Request-Id` we echo. */
export const REQUEST_ID_MAX = 128;

/**
 * An incoming `X-Request-Id` we echo (Hono's `requestId` rule: word characters, `-` and `=`, up
 * to `REQUEST_ID_MAX`); anything else gets a fresh id.
 */
export const REQUEST_ID_RE = /^[\w=-]{1,128}$/;

/** The id of a request: the caller's `X-Request-Id` when sane, else a new one. */
export function requestIdOf(incoming: string | null | undefined): string {
  return incoming && REQUEST_ID_RE.test(incoming) ? incoming : newRequestId();
}

/** Response headers a browser script may read on CORS answers. */
export const CORS_EXPOSE_HEADERS = ["X-Request-Id", "Retry-After", "Idempotent-Replayed"];

/** Request headers a browser may send on CORS calls. */
export const CORS_ALLOW_HEADERS = [
  "Authorization",
  "Content-Type",
  "X-Customer-Token",
  "X-Publishable-Key",
  "X-Clerk-Token",
  "Idempotency-Key",
  "X-User-Id",
  "X-Request-Id",
];

/** Headers every JSON API answer carries (each header costs throughput on the hot path). */
export const API_HEADERS: [string, string][] = [["X-Content-Type-Options", "nosniff"]];

/**
 * The Content-Security-Policy of pages. Forms may post to this server and the payment
 * provider's pages only (`providerOrigins`), plus `formTargets` of one page (the sandbox
 * checkout, whose form ends in a redirect to the shop's own return URL); `extraScripts` are
 * origins allowed to run scripts (Clerk's frontend API when configured).
 */
export function contentSecurityPolicy(
  o: { extraScripts: string[]; providerOrigins: string[]; formTargets?: string[] | undefined },
): string {
  const self = ["'self'", ...o.extraScripts].join(" ");
  const forms = [...new Set(["'self'", ...o.providerOrigins, ...(o.formTargets ?? [])])];
  return [
    "default-src 'self'",
    "img-src 'self' data: https:",
    "style-src 'self' 'unsafe-inline'",
    `script-src ${self}`,
    `connect-src ${self}`,
    `frame-src ${self}`,
    "worker-src 'self' blob:",
    "frame-ancestors 'none'",
    "base-uri 'self'",
    `form-action ${forms.join(" ")}`,
  ].join("; ");
}

/** The other fixed security headers of pages. */
export const PAGE_HEADERS: [string, string][] = [
  ["Cross-Origin-Opener-Policy", "same-origin"],
  // images and API answers are fetched cross-origin by developers' sites
  ["Cross-Origin-Resource-Policy", "cross-origin"],
  // browsers send "Origin: null" on form posts under no-referrer, which would defeat the CSRF check
  ["Referrer-Policy", "strict-origin-when-cross-origin"],
  ["Strict-Transport-Security", "max-age=15552000; includeSubDomains"],
  ["X-Content-Type-Options", "nosniff"],
  ["X-Frame-Options", "DENY"],
  ["X-Permitted-Cross-Domain-Policies", "none"],
  ["Origin-Agent-Cluster", "?1"],
];

/** The origin of an http(s) URL, for a CSP source list; null for anything else. */
export function originOf(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === "https:" || u.protocol === "http:" ? u.origin : null;
  } catch {
    return null;
  }
}
