/** The SDK's HTTP layer: one fetch with retries, timeouts and typed errors. */
import type { Usage } from "./types.ts";

export interface ClientOptions {
  /** Where dream-api runs, e.g. https://api.example.com (default http://localhost:8000). */
  baseUrl?: string;
  /** Per-attempt timeout in milliseconds (default 10 000). */
  timeoutMs?: number;
  /** Retries for network errors, 5xx and `rate_limited` on safe calls (default 2). */
  maxRetries?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** Every non-2xx answer: the contract's error fields, plus `usage` on `tier_limit_reached`. */
export class DreamApiError extends Error {
  override readonly name = "DreamApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: { field: string; message: string }[] = [],
    readonly usage: Usage | null = null,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
  }
}

export interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Safe to send again (GET, or a POST carrying an idempotency key or setting a state). */
  retry?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A random idempotency key (Web Crypto, available in Node ≥ 18, Deno, Bun and browsers). */
export function newIdempotencyKey(): string {
  return `idk_${globalThis.crypto.randomUUID()}`;
}

export class Transport {
  readonly #base: string;
  readonly #timeout: number;
  readonly #retries: number;
  readonly #fetch: typeof fetch;
  readonly #auth: () => Record<string, string>;

  constructor(o: ClientOptions, auth: () => Record<string, string>) {
    this.#base = (o.baseUrl ?? "http://localhost:8000").replace(/\/+$/, "");
    this.#timeout = o.timeoutMs ?? 10_000;
    this.#retries = Math.max(0, o.maxRetries ?? 2);
    this.#fetch = o.fetch ?? globalThis.fetch.bind(globalThis);
    this.#auth = auth;
  }

  async request<T>(
    method: string,
    path: string,
    o: RequestOptions = {},
  ): Promise<T> {
    const attempts = (o.retry ?? method === "GET") ? this.#retries + 1 : 1;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        await sleep(
          Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random()),
        );
      }
      const ctrl = new AbortController();
      const timer = setTimeout(() => ctrl.abort(), this.#timeout);
      let res: Response;
      try {
        res = await this.#fetch(this.#base + path, {
          method,
          headers: {
            Accept: "application/json",
            ...(o.body !== undefined ? { "Content-Type": "application/json" } : {}),
            ...this.#auth(),
            ...o.headers,
          },
          ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
          signal: ctrl.signal,
        });
      } catch (err) {
        clearTimeout(timer);
        lastError = new DreamApiError(
          0,
          ctrl.signal.aborted ? "timeout" : "network_error",
          ctrl.signal.aborted
            ? `Timed out after ${this.#timeout} ms`
            : `Network error: ${(err as Error).message}`,
          null,
        );
        continue;
      }
      clearTimeout(timer);
      const text = await res.text();
      const data = text ? safeJson(text) : null;
      if (res.ok) return data as T;
      const e = (data as { error?: Record<string, unknown> } | null)?.error ??
        {};
      const retryAfter = Number(res.headers.get("Retry-After")) || null;
      const error = new DreamApiError(
        res.status,
        String(e.code ?? "http_error"),
        String(e.message ?? `HTTP ${res.status}`),
        String(e.requestId ?? res.headers.get("X-Request-Id") ?? "") || null,
        (e.details as { field: string; message: string }[] | undefined) ?? [],
        (e.usage as Usage | undefined) ?? null,
        retryAfter,
      );
      // a refusal by the payment provider (502) says why; asking again changes nothing
      const transient = (res.status >= 500 && error.code !== "payment_provider_error") ||
        error.code === "rate_limited";
      if (!transient || attempt === attempts - 1) throw error;
      lastError = error;
      if (retryAfter) await sleep(Math.min(retryAfter, 5) * 1000);
    }
    throw lastError;
  }
}

export function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export const enc = encodeURIComponent;

/** The server client: every customer-API call with your secret key (`sk_test_…`/`sk_live_…`). */
