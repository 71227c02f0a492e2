/**
 * dream-api client: `DreamApi` for servers (secret key), `DreamBrowser` for browsers
 * (publishable key, plus a customer token for customer actions). Fetch-based, no dependencies;
 * Node ≥ 18, Deno, Bun and browsers.
 */
import type {
  CartInput,
  CartResult,
  CheckoutInput,
  CheckoutResult,
  Customer,
  CustomerInput,
  CustomerPatch,
  Dashboard,
  DashboardTotals,
  Product,
  Subscription,
  Tier,
  TrackResult,
  Usage,
} from "./types.ts";
import { type ClientOptions, enc, newIdempotencyKey, Transport } from "./transport.ts";

export type * from "./types.ts";
export { type ClientOptions, DreamApiError, newIdempotencyKey } from "./transport.ts";
export { verifyWebhook, type WebhookEvent, WebhookVerificationError } from "./webhooks.ts";

/**
 * A cart's checkout, the same for servers and browsers: retried safely with an automatic
 * Idempotency-Key (one hold however often it is sent). `t` answers the client's transport, set
 * in its constructor after the fields are made.
 */
function cartCheckout(t: () => Transport) {
  return (input: CartInput, o: { idempotencyKey?: string } = {}) =>
    t().request<CartResult>("POST", "/api/cart/checkout", {
      body: input,
      headers: { "Idempotency-Key": o.idempotencyKey ?? newIdempotencyKey() },
      retry: true,
    });
}

export class DreamApi {
  readonly #t: Transport;

  constructor(o: ClientOptions & { secretKey: string }) {
    if (!o.secretKey?.startsWith("sk_")) {
      throw new TypeError("DreamApi needs a secret key (sk_…)");
    }
    this.#t = new Transport(
      o,
      () => ({ Authorization: `Bearer ${o.secretKey}` }),
    );
  }

  readonly customers = {
    create: (input: CustomerInput = {}) =>
      this.#t.request<{ customer: Customer }>("POST", "/api/customers", {
        body: input,
      }).then((r) => r.customer),
    get: (id: string) =>
      this.#t.request<{ customer: Customer }>(
        "GET",
        `/api/customers/${enc(id)}`,
      ).then((r) => r.customer),
    update: (id: string, patch: CustomerPatch) =>
      this.#t.request<{ customer: Customer }>(
        "PATCH",
        `/api/customers/${enc(id)}`,
        {
          body: patch,
        },
      ).then((r) => r.customer),
    delete: (id: string) =>
      this.#t.request<{ deleted: true; id: string }>(
        "DELETE",
        `/api/customers/${enc(id)}`,
      ),
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
    track: (
      customerId: string,
      o: { quantity?: number; idempotencyKey?: string } = {},
    ) =>
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
    checkout: (
      customerId: string,
      input: CheckoutInput,
      o: { idempotencyKey?: string } = {},
    ) =>
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
      this.#t.request<{ subscription: Subscription }>(
        "POST",
        "/api/subscription/cancel",
        {
          headers: { "X-User-Id": customerId },
          retry: true,
        },
      )
        .then((r) => r.subscription),
    resume: (customerId: string) =>
      this.#t.request<{ subscription: Subscription }>(
        "POST",
        "/api/subscription/resume",
        {
          headers: { "X-User-Id": customerId },
          retry: true,
        },
      )
        .then((r) => r.subscription),
  };

  readonly cart = { checkout: cartCheckout(() => this.#t) };

  tiers(): Promise<{ type: "saas" | "store"; tiers: Tier[] }> {
    return this.#t.request("GET", "/api/tiers");
  }

  products(): Promise<Product[]> {
    return this.#t.request<{ products: Product[] }>("GET", "/api/products")
      .then((r) => r.products);
  }

  dashboard(): Promise<Dashboard> {
    return this.#t.request("GET", "/api/dashboard");
  }

  /** Totals over all of your projects in this key's mode. */
  dashboardTotals(): Promise<DashboardTotals> {
    return this.#t.request("GET", "/api/dashboard/totals");
  }
}

/**
 * The browser client: your publishable key (`pk_…`, safe to ship) for the pricing page and the
 * store, and a customer token (minted by your server) for the signed-in customer's actions.
 */
export class DreamBrowser {
  readonly #t: Transport;
  #token: string | null;

  constructor(
    o: ClientOptions & { publishableKey: string; customerToken?: string },
  ) {
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
    return this.#t.request<{ products: Product[] }>("GET", "/api/products")
      .then((r) => r.products);
  }

  readonly cart = { checkout: cartCheckout(() => this.#t) };

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
    /** `returnUrl` left out: the portal returns to `<this page's origin>/dashboard`. */
    portal: (input: { returnUrl?: string } = {}) =>
      this.#t.request<{ url: string }>("POST", "/api/customer-portal", {
        body: input,
        retry: true,
      }),
    cancel: () =>
      this.#t.request<{ subscription: Subscription }>(
        "POST",
        "/api/subscription/cancel",
        {
          retry: true,
        },
      ).then((r) => r.subscription),
    resume: () =>
      this.#t.request<{ subscription: Subscription }>(
        "POST",
        "/api/subscription/resume",
        {
          retry: true,
        },
      ).then((r) => r.subscription),
  };
}

/** The SDK's endpoints (method and OpenAPI path), for the test that checks them against /openapi.json. */
export const ENDPOINTS = [
  ["POST", "/api/customers"],
  ["GET", "/api/customers/{id}"],
  ["PATCH", "/api/customers/{id}"],
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
  ["GET", "/api/dashboard/totals"],
] as const;
