/** The islands' small typed client for the developer API (same-origin session cookie). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: { field: string; message: string }[] = [],
  ) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) {
    const e = data?.error ?? {};
    throw new ApiError(
      res.status,
      e.code ?? "error",
      e.message ?? `HTTP ${res.status}`,
      e.details ?? [],
    );
  }
  return data as T;
}

/** A validator's wording said the way a form says it ("Required", "At least 0"). */
export function humanize(message: string): string {
  const m = message.trim();
  if (/^Too small: expected string to have >=1 characters?$/.test(m)) return "Required";
  if (/^Invalid input: expected \w+, received undefined$/.test(m)) return "Required";
  let r = /^Too small: expected string to have >=(\d+) characters?$/.exec(m);
  if (r) return `At least ${r[1]} characters`;
  r = /^Too big: expected string to have <=(\d+) characters?$/.exec(m);
  if (r) return `At most ${r[1]} characters`;
  r = /^Too small: expected number to be >=(-?[\d.]+)$/.exec(m);
  if (r) return `At least ${r[1]}`;
  r = /^Too big: expected number to be <=(-?[\d.]+)$/.exec(m);
  if (r) return `At most ${r[1]}`;
  if (/^Invalid input: expected int, received number$/.test(m)) return "A whole number";
  return m.charAt(0).toUpperCase() + m.slice(1);
}

/** Field errors of an ApiError keyed by field path, for messages next to inputs. */
export function fieldErrors(err: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (err instanceof ApiError) { for (const d of err.details) out[d.field] = humanize(d.message); }
  return out;
}

/** The sentence above a form: "Fix the fields marked below" when fields carry the detail. */
export function formMessage(err: unknown): string {
  if (err instanceof ApiError && err.details.length > 0 && err.code === "validation_failed") {
    return "Some fields need fixing: see the messages next to them.";
  }
  return (err as Error).message;
}
