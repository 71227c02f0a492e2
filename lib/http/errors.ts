/** The one place errors become HTTP: the contract's `{error:{code,message,requestId,…}}`. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, fieldIssues, InvalidRequestError, ValidationError } from "@/lib/errors.ts";
import type { AppEnv } from "@/lib/http/context.ts";
import { isApiPath } from "@/lib/http/middleware/security_headers.ts";
import { providerFailure } from "@/lib/payments/failures.ts";
import type { Logger } from "@/lib/logger.ts";

/**
 * The contract's error body. The sentence is also at the top level (`message`): the original
 * dream-api SDK builds its exception from it.
 */
export function errorBody(
  err: Pick<AppError, "code" | "message" | "details">,
  requestId: string,
) {
  return {
    error: { code: err.code, message: err.message, requestId, ...err.details },
    message: err.message,
  };
}

/** The JSON body and status of an error response. */
export function errorResponse(c: Context<AppEnv>, err: AppError): Response {
  const res = c.json(errorBody(err, c.get("requestId") ?? ""), err.status as 400);
  for (const [k, v] of Object.entries(err.headers)) res.headers.set(k, v);
  return res;
}

/** An error as its answer: an HTML page for a browser asking for a page, else the JSON body. */
export function errorAnswer(c: Context<AppEnv>, err: AppError): Response {
  return wantsPage(c) ? errorPage(c, err) : errorResponse(c, err);
}

/** Pages (not API paths) asked for by a browser get an HTML error page. */
function wantsPage(c: Context<AppEnv>): boolean {
  return !isApiPath(c.req.path) &&
    (c.req.header("Accept") ?? "").includes("text/html");
}

function errorPage(c: Context<AppEnv>, err: AppError): Response {
  const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${err.status} — dream-api</title>` +
    `<link rel="stylesheet" href="/static/app.css"></head><body>` +
    `<header class="top"><a class="brand" href="/">dream-api</a><nav aria-label="Main">` +
    `<a href="/docs">Docs</a><a href="/dashboard">Dashboard</a></nav></header>` +
    `<main id="main"><h1>${err.status === 404 ? "Not found" : "Something is wrong"}</h1>` +
    `<p>${esc(err.message)}</p><p><a href="/dashboard">Back to the dashboard</a></p>` +
    `<p class="muted">Request ${esc(c.get("requestId") ?? "")}</p></main></body></html>`;
  return c.html(body, err.status as 400);
}

/**
 * Deno KV's refusals that only caller input can cause: an id too long for a key, a cursor that
 * is not one of ours. They are the caller's fault (4xx), whatever route met them.
 */
export function storeInputError(err: unknown): AppError | null {
  if (!(err instanceof TypeError)) return null;
  if (/^Key too large/i.test(err.message)) {
    return new InvalidRequestError("An id in this request is too long", [
      { field: "id", message: "too long" },
    ]);
  }
  if (/^invalid cursor/i.test(err.message)) {
    return new InvalidRequestError("Malformed pagination cursor", [
      { field: "cursor", message: "not a cursor this server gave out" },
    ]);
  }
  return null;
}

/**
 * Hono `onError`: domain errors map by code; a payment provider's failure is logged and answered
 * as `providerFailure` says (503 down, 502 refused); anything unknown is logged and answered 500.
 */
export function onError(thrown: Error, c: Context<AppEnv>): Response {
  const failure = providerFailure(thrown);
  if (failure) {
    const e = thrown as { requestId?: unknown };
    c.get("services")?.logger.warn("payment provider call failed", {
      requestId: c.get("requestId"),
      path: c.req.path,
      error: `${thrown.name}: ${thrown.message}`,
      providerRequestId: typeof e.requestId === "string" ? e.requestId : null,
      answered: failure.status,
    });
  }
  const err = storeInputError(thrown) ?? failure ?? thrown;
  if (err instanceof AppError) return wantsPage(c) ? errorPage(c, err) : errorResponse(c, err);
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) {
      return errorResponse(c, new AppError("payload_too_large", "Request body is too large"));
    }
    if (status >= 400 && status < 500) {
      const msg = /json/i.test(err.message)
        ? "Malformed JSON in request body"
        : err.message || "Bad request";
      return errorResponse(c, new InvalidRequestError(msg, [{ field: "body", message: msg }]));
    }
  }
  const internal = unhandled(c.get("services")?.logger, {
    requestId: c.get("requestId") ?? "",
    path: c.req.path,
    err,
  });
  return wantsPage(c) ? errorPage(c, internal) : errorResponse(c, internal);
}

/**
 * A failure that is not the caller's (a store that failed, a bug): logged with the request's id
 * and answered as 500 `internal_error`, with no detail of it in the answer. The full app's
 * `onError` and the hot path both answer it through here.
 */
export function unhandled(
  logger: Logger | undefined,
  o: { requestId: string; path: string; err: unknown },
): AppError {
  const { err } = o;
  logger?.error("unhandled error", {
    requestId: o.requestId,
    path: o.path,
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return new AppError("internal_error", "Something went wrong on our side");
}

/** The zod-openapi validation hook: a failed schema is 422 `validation_failed` naming fields. */
export function validationHook(
  result: {
    success: boolean;
    error?: { issues: readonly { path: readonly PropertyKey[]; message: string }[] };
    target?: string;
  },
): void {
  if (result.success || !result.error) return;
  const details = fieldIssues(result.error.issues);
  const first = details[0];
  if (result.target === "header") {
    throw new InvalidRequestError(`Bad header ${first?.field}: ${first?.message}`, details);
  }
  if (details.some((d) => d.field === "cursor")) {
    throw new InvalidRequestError("Malformed pagination cursor", details);
  }
  throw new ValidationError(
    first ? `Invalid ${first.field}: ${first.message}` : "Invalid request",
    details,
  );
}
