/** Domain errors with stable codes; mapped to HTTP in exactly one place (lib/http/errors.ts). */

export type ErrorCode =
  | "invalid_request"
  | "invalid_api_key"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "tier_in_use"
  | "payload_too_large"
  | "validation_failed"
  | "tier_limit_reached"
  | "rate_limited"
  | "internal_error"
  | "payment_provider_error"
  | "service_unavailable";

export const STATUS_OF: Record<ErrorCode, number> = {
  invalid_request: 400,
  invalid_api_key: 401,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  tier_in_use: 409,
  payload_too_large: 413,
  validation_failed: 422,
  tier_limit_reached: 429,
  rate_limited: 429,
  internal_error: 500,
  payment_provider_error: 502,
  service_unavailable: 503,
};

/** Base class: a code, a human sentence, and optional details merged into the error body. */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  readonly headers: Record<string, string>;
  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.code = code;
    this.details = opts.details ?? {};
    this.headers = opts.headers ?? {};
  }
  get status(): number {
    return STATUS_OF[this.code];
  }
}

export interface FieldIssue {
  field: string;
  message: string;
}

/** Zod issues as `{field, message}` pairs. */
export function fieldIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): FieldIssue[] {
  return issues.map((i) => ({ field: i.path.map(String).join(".") || "body", message: i.message }));
}

export class InvalidRequestError extends AppError {
  constructor(message: string, details: FieldIssue[] = []) {
    super("invalid_request", message, { details: { details } });
  }
}
export class ValidationError extends AppError {
  constructor(message: string, details: FieldIssue[] = []) {
    super("validation_failed", message, { details: { details } });
  }
}
export class NotFoundError extends AppError {
  constructor(message: string) {
    super("not_found", message);
  }
}
export class ConflictError extends AppError {
  constructor(message: string) {
    super("conflict", message);
  }
}
export class ForbiddenError extends AppError {
  constructor(message: string) {
    super("forbidden", message);
  }
}
export class UnauthenticatedError extends AppError {
  constructor(message: string, code: "unauthenticated" | "invalid_api_key" = "unauthenticated") {
    super(code, message);
  }
}
export class RateLimitedError extends AppError {
  constructor(message: string, retryAfterSeconds: number) {
    super("rate_limited", message, {
      headers: { "Retry-After": String(Math.max(1, Math.ceil(retryAfterSeconds))) },
      details: { retryAfter: Math.max(1, Math.ceil(retryAfterSeconds)) },
    });
  }
}
