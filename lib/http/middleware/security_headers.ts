/**
 * Security headers. Hono's `secureHeaders` does not fit: JSON answers must carry only
 * `nosniff` (the hot path answers the same, and each header costs throughput), and one page
 * (the sandbox checkout) needs its own CSP `form-action`.
 */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "@/lib/http/context.ts";
import { API_HEADERS, PAGE_HEADERS } from "@/lib/http/security.ts";

/** Paths that answer JSON (or files) to programs rather than pages to people. */
export function isApiPath(path: string): boolean {
  return path.startsWith("/api/") || path.startsWith("/v1/") || path.startsWith("/webhook/") ||
    path === "/openapi.json" || path === "/healthz";
}

/**
 * Pages get the full set (CSP, frame-ancestors, HSTS …), JSON API answers `API_HEADERS`. The CSP
 * of pages is computed once; a page that names extra form targets (`formTargets`) gets its own.
 */
export function securityHeaders(
  o: { csp: (formTargets?: string[]) => string },
): MiddlewareHandler<AppEnv> {
  const fixed: [string, string][] = [["Content-Security-Policy", o.csp()], ...PAGE_HEADERS];
  return async (c, next) => {
    await next();
    const h = c.res.headers;
    if (isApiPath(c.req.path)) {
      for (const [k, v] of API_HEADERS) if (!h.has(k)) h.set(k, v);
      return;
    }
    const targets = c.get("formTargets");
    for (const [k, v] of fixed) if (!h.has(k)) h.set(k, v);
    if (targets?.length) h.set("Content-Security-Policy", o.csp(targets));
  };
}
