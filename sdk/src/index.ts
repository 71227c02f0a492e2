/**
 * dream-api client: `DreamApi` for servers (secret key), `DreamBrowser` for browsers
 * (publishable key, plus a customer token for customer actions). Fetch-based, no dependencies;
 * Node ≥ 18, Deno, Bun and browsers.
 */
// ---- shapes (checked against /openapi.json in tests) ----

export interface Usage {
  count: number;
  limit: number | null;
  remaining: number | null;
  plan: string;
  periodStart: string;
  periodEnd: string;
}

export interface Subscription {
  id: string;
  tier: string | null;
  status: string;
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
}

export interface Customer {
  id: string;
  email: string | null;
  name: string | null;
  plan: string | null;
  metadata: Record<string, string>;
  createdAt: string;
  subscription: Subscription | null;
  usage: Usage;
}

export interface CustomerInput {
  id?: string;
  email?: string;
  name?: string;
  password?: string;
  plan?: string;
  metadata?: Record<string, string>;
}

export interface Tier {
  name: string;
  displayName: string;
  price: number;
  currency: string;
  interval?: "month" | "year" | null;
  limit?: number | null;
  inventory?: number | null;
  soldOut?: boolean;
  features: string[];
  popular: boolean;
  description: string | null;
  imageUrl: string | null;
  priceId: string | null;
  productId: string | null;
  /** Hidden from pricing pages and new checkouts; its subscribers stay on it. */
  archived: boolean;
}

export interface Product {
  id: string;
  name: string;
  displayName: string;
  description: string | null;
  price: number;
  currency: string;
  imageUrl: string | null;
  inventory: number | null;
  soldOut: boolean;
  priceId: string | null;
  productId: string | null;
}

export interface CartItem {
  priceId?: string;
  productId?: string;
  quantity: number;
}

export interface CartInput {
  email?: string;
  items: CartItem[];
  successUrl: string;
  cancelUrl: string;
}

export interface CheckoutInput {
  tier: string;
  successUrl: string;
  cancelUrl: string;
}

export interface TrackResult {
  success: true;
  usage: Usage;
}

export interface CheckoutResult {
  url: string;
  sessionId?: string;
  switched: boolean;
}

export interface CartResult {
  url: string;
  sessionId: string;
  reservationId: string;
  expiresAt: string;
}

export type Dashboard =
  | {
    type: "saas";
    activeSubscriptions: number;
    canceling: number;
    mrr: number;
    usageThisPeriod: number;
    customers: number;
    currency: string;
  }
  | {
    type: "store";
    sales: number;
    revenue: number;
    inStock: number;
    lowStock: number;
    soldOut: number;
    currency: string;
  };

// ---- client ----

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

interface RequestOptions {
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

class Transport {
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

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const attempts = (o.retry ?? method === "GET") ? this.#retries + 1 : 1;
    let lastError: unknown = null;
    for (let attempt = 0; attempt < attempts; attempt++) {
      if (attempt > 0) {
        await sleep(Math.min(2000, 100 * 2 ** (attempt - 1)) * (0.5 + Math.random()));
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
      const e = (data as { error?: Record<string, unknown> } | null)?.error ?? {};
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
      const transient = res.status >= 500 || error.code === "rate_limited";
      if (!transient || attempt === attempts - 1) throw error;
      lastError = error;
      if (retryAfter) await sleep(Math.min(retryAfter, 5) * 1000);
    }
    throw lastError;
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

const enc = encodeURIComponent;

/** The server client: every customer-API call with your secret key (`sk_test_…`/`sk_live_…`). */
export class DreamApi {
  readonly #t: Transport;

  constructor(o: ClientOptions & { secretKey: string }) {
    if (!o.secretKey?.startsWith("sk_")) throw new TypeError("DreamApi needs a secret key (sk_…)");
    this.#t = new Transport(o, () => ({ Authorization: `Bearer ${o.secretKey}` }));
  }

  readonly customers = {
    create: (input: CustomerInput = {}) =>
      this.#t.request<{ customer: Customer }>("POST", "/api/customers", { body: input }).then((r) =>
        r.customer
      ),
    get: (id: string) =>
      this.#t.request<{ customer: Customer }>("GET", `/api/customers/${enc(id)}`).then((r) =>
        r.customer
      ),
    delete: (id: string) =>
      this.#t.request<{ deleted: true; id: string }>("DELETE", `/api/customers/${enc(id)}`),
    /** A short-lived token letting a browser act as this customer with your publishable key. */
    token: (id: string) =>
      this.#t.request<{ token: string; expiresAt: string }>(
        "POST",
        `/api/customers/${enc(id)}/token`,
        { retry: true },
      ),
  };

  readonly usage = {
    /** Counts usage (default 1); retried safely with an automatic Idempotency-Key. */
    track: (customerId: string, o: { quantity?: number; idempotencyKey?: string } = {}) =>
      this.#t.request<TrackResult>("POST", "/api/data", {
        body: o.quantity === undefined ? {} : { quantity: o.quantity },
        headers: {
          "X-User-Id": customerId,
          "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey(),
        },
        retry: true,
      }).then((r) => r.usage),
    get: (customerId: string) =>
      this.#t.request<{ usage: Usage }>("GET", "/api/usage", {
        headers: { "X-User-Id": customerId },
      }).then((r) => r.usage),
  };

  readonly billing = {
    checkout: (customerId: string, input: CheckoutInput, o: { idempotencyKey?: string } = {}) =>
      this.#t.request<CheckoutResult>("POST", "/api/create-checkout", {
        body: input,
        headers: {
          "X-User-Id": customerId,
          "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey(),
        },
        retry: true,
      }),
    portal: (customerId: string, input: { returnUrl: string }) =>
      this.#t.request<{ url: string }>("POST", "/api/customer-portal", {
        body: input,
        headers: { "X-User-Id": customerId },
        retry: true,
      }),
    cancel: (customerId: string) =>
      this.#t.request<{ subscription: Subscription }>("POST", "/api/subscription/cancel", {
        headers: { "X-User-Id": customerId },
        retry: true,
      })
        .then((r) => r.subscription),
    resume: (customerId: string) =>
      this.#t.request<{ subscription: Subscription }>("POST", "/api/subscription/resume", {
        headers: { "X-User-Id": customerId },
        retry: true,
      })
        .then((r) => r.subscription),
  };

  readonly cart = {
    checkout: (input: CartInput) =>
      this.#t.request<CartResult>("POST", "/api/cart/checkout", { body: input }),
  };

  tiers(): Promise<{ type: "saas" | "store"; tiers: Tier[] }> {
    return this.#t.request("GET", "/api/tiers");
  }

  products(): Promise<Product[]> {
    return this.#t.request<{ products: Product[] }>("GET", "/api/products").then((r) => r.products);
  }

  dashboard(): Promise<Dashboard> {
    return this.#t.request("GET", "/api/dashboard");
  }
}

/**
 * The browser client: your publishable key (`pk_…`, safe to ship) for the pricing page and the
 * store, and a customer token (minted by your server) for the signed-in customer's actions.
 */
export class DreamBrowser {
  readonly #t: Transport;
  #token: string | null;

  constructor(o: ClientOptions & { publishableKey: string; customerToken?: string }) {
    if (!o.publishableKey?.startsWith("pk_")) {
      throw new TypeError("DreamBrowser needs a publishable key (pk_…)");
    }
    this.#token = o.customerToken ?? null;
    this.#t = new Transport(o, () => ({
      Authorization: `Bearer ${o.publishableKey}`,
      ...(this.#token ? { "X-Customer-Token": this.#token } : {}),
    }));
  }

  /** Sets (or clears) the customer token used for customer actions. */
  setCustomerToken(token: string | null): void {
    this.#token = token;
  }

  tiers(): Promise<{ type: "saas" | "store"; tiers: Tier[] }> {
    return this.#t.request("GET", "/api/tiers");
  }

  products(): Promise<Product[]> {
    return this.#t.request<{ products: Product[] }>("GET", "/api/products").then((r) => r.products);
  }

  readonly cart = {
    checkout: (input: CartInput) =>
      this.#t.request<CartResult>("POST", "/api/cart/checkout", { body: input }),
  };

  readonly usage = {
    track: (o: { quantity?: number; idempotencyKey?: string } = {}) =>
      this.#t.request<TrackResult>("POST", "/api/data", {
        body: o.quantity === undefined ? {} : { quantity: o.quantity },
        headers: { "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey() },
        retry: true,
      }).then((r) => r.usage),
    get: () => this.#t.request<{ usage: Usage }>("GET", "/api/usage").then((r) => r.usage),
  };

  readonly billing = {
    checkout: (input: CheckoutInput, o: { idempotencyKey?: string } = {}) =>
      this.#t.request<CheckoutResult>("POST", "/api/create-checkout", {
        body: input,
        headers: { "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey() },
        retry: true,
      }),
    portal: (input: { returnUrl: string }) =>
      this.#t.request<{ url: string }>("POST", "/api/customer-portal", {
        body: input,
        retry: true,
      }),
    cancel: () =>
      this.#t.request<{ subscription: Subscription }>("POST", "/api/subscription/cancel", {
        retry: true,
      }).then((r) => r.subscription),
    resume: () =>
      this.#t.request<{ subscription: Subscription }>("POST", "/api/subscription/resume", {
        retry: true,
      }).then((r) => r.subscription),
  };
}

/** The SDK's endpoints (method and OpenAPI path), for the test that checks them against /openapi.json. */
export const ENDPOINTS = [
  ["POST", "/api/customers"],
  ["GET", "/api/customers/{id}"],
  ["DELETE", "/api/customers/{id}"],
  ["POST", "/api/customers/{id}/token"],
  ["POST", "/api/data"],
  ["GET", "/api/usage"],
  ["POST", "/api/create-checkout"],
  ["POST", "/api/customer-portal"],
  ["POST", "/api/subscription/cancel"],
  ["POST", "/api/subscription/resume"],
  ["POST", "/api/cart/checkout"],
  ["GET", "/api/tiers"],
  ["GET", "/api/products"],
  ["GET", "/api/dashboard"],
] as const;
