/** The one place errors become HTTP: the contract's `{error:{code,message,requestId,…}}`. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { AppError, type FieldIssue, InvalidRequestError, ValidationError } from "@/lib/errors.ts";
import type { AppEnv } from "@/lib/http/context.ts";

/** The JSON body and status of an error response. */
export function errorResponse(c: Context<AppEnv>, err: AppError): Response {
  const requestId = c.get("requestId") ?? "";
  const body = { error: { code: err.code, message: err.message, requestId, ...err.details } };
  const res = c.json(body, err.status as 400);
  for (const [k, v] of Object.entries(err.headers)) res.headers.set(k, v);
  return res;
}

/** Hono `onError`: domain errors map by code; anything unknown is logged and answered as 500. */
export function onError(err: Error, c: Context<AppEnv>): Response {
  if (err instanceof AppError) return errorResponse(c, err);
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
  c.get("services")?.logger.error("unhandled error", {
    requestId: c.get("requestId"),
    path: c.req.path,
    error: err instanceof Error ? `${err.name}: ${err.message}` : String(err),
    stack: err instanceof Error ? err.stack : undefined,
  });
  return errorResponse(c, new AppError("internal_error", "Something went wrong on our side"));
}

/** Zod issues as `{field, message}` pairs. */
export function fieldIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldIssue[] {
  return issues.map((i) => ({ field: i.path.map(String).join(".") || "body", message: i.message }));
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
  throw new ValidationError(
    first ? `Invalid ${first.field}: ${first.message}` : "Invalid request",
    details,
  );
}
