/**
 * A Stripe-API double for tests: an HTTP server speaking the endpoints dream-api uses, with
 * Stripe's form encoding, `Stripe-Account` scoping, idempotency keys, error shapes and
 * required-parameter checks. Objects are built from Stripe's published fixtures. Tests drive
 * the real `npm:stripe` SDK against it and sign the events it produces.
 */
import Stripe from "stripe";
import { stripeShape } from "@/lib/payments/fixtures.ts";
import { signPayload } from "@/lib/payments/signature.ts";
import { randomBase62 } from "@/lib/ids.ts";
import { addInterval } from "@/lib/period.ts";
import {
  type CallOpts,
  developer,
  project,
  servePort,
  testApp,
  TestClock,
  type TestResponse,
} from "@/tests/helpers.ts";

type Obj = Record<string, unknown> & { id: string };
type Params = Record<string, unknown>;

/** Decodes Stripe's bracket form encoding (`a[b][0][c]=v`) into nested objects and arrays. */
export function decodeForm(body: string): Params {
  const root: Params = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const parts = rawKey.replace(/\]/g, "").split("[");
    let cur: Record<string, unknown> = root;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) {
        cur[p] = value;
        return;
      }
      const nextIsIndex = /^\d+$/.test(parts[i + 1]!);
      cur[p] ??= nextIsIndex ? [] : {};
      cur = cur[p] as Record<string, unknown>;
    });
  }
  return root;
}

class StripeApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
  }
}

const missing = (param: string) =>
  new StripeApiError(
    400,
    "invalid_request_error",
    "parameter_missing",
    `Missing required param: ${param}.`,
    param,
  );

const LIVE = "live:";

/**
 * Where the double keeps what the live key makes for an account (null: the platform's own): the
 * `account` argument of its helpers (`pay`, `find`, …) for live-mode objects; their events come
 * with that account and `livemode: true`.
 */
export function liveScope(account: string | null): string {
  return LIVE + (account ?? "platform");
}

/** The platform's own scope in the mode of `scope`. */
function platformOf(scope: string | null): string | null {
  return scope?.startsWith(LIVE) ? liveScope(null) : null;
}

/** Product images must be absolute http(s) URLs, at most 8 (Stripe: "Not a valid URL"). */
function checkImages(images: unknown): void {
  const list = Array.isArray(images) ? images as string[] : [];
  if (list.length > 8) {
    throw new StripeApiError(
      400,
      "invalid_request_error",
      "parameter_invalid_array",
      "Too many images",
      "images",
    );
  }
  list.forEach((url, i) => {
    if (!/^https?:\/\/[^/]/.test(String(url))) {
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "url_invalid",
        "Not a valid URL",
        `images[${i}]`,
      );
    }
  });
}

export class StripeDouble {
  /** objects per account ("platform" for none; live-mode scopes are `liveScope(account)`) */
  #objects = new Map<string, Map<string, Obj>>();
  /** Idempotency keys, kept 24 hours as Stripe keeps them. */
  #idem = new Map<string, { params: string; status: number; body: unknown; at: number }>();
  /** Connected accounts that removed the platform: calls on them are refused. */
  #revoked = new Set<string>();
  #server: Deno.HttpServer<Deno.NetAddr> | null = null;
  readonly apiKey = "sk_test_double_0123456789abcdef";
  /** The live-mode key: what it makes and reads lives apart from the test key's (as at Stripe). */
  readonly apiKeyLive = "sk_live_double_0123456789abcdef";
  readonly webhookSecret = "whsec_double_secret";
  #stripe = new Stripe("sk_test_sign");
  now: () => number;
  /** Every request seen: method, path, account, idempotency key. */
  requests: {
    method: string;
    path: string;
    account: string | null;
    idempotencyKey: string | null;
    /** The form body as sent (`automatic_tax[enabled]=true&…`). */
    raw?: string;
  }[] = [];

  /**
   * Paths answered 500 (`api_error`) for the next N requests to them: Stripe being down. The SDK
   * retries a 500 twice (maxNetworkRetries), so 3 makes one call fail.
   */
  outages = new Map<string, number>();

  /**
   * Paths answered with a Stripe refusal (a 4xx with its type, code and message) on the next
   * request to them (`times` requests: the SDK retries a 409): what Stripe says when an account
   * or a parameter doesn't allow the call.
   */
  refusals = new Map<
    string,
    { status: number; type: string; code: string; message: string; times?: number }
  >();

  constructor(now: () => number) {
    this.now = now;
  }

  get url() {
    return `http://127.0.0.1:${this.#server!.addr.port}`;
  }

  start() {
    this.#server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      (req) => this.#handle(req),
    );
    return this;
  }

  async [Symbol.asyncDispose]() {
    await this.#server?.shutdown();
  }

  #sec() {
    return Math.floor(this.now() / 1000);
  }

  #store(account: string | null) {
    const k = account ?? "platform";
    let m = this.#objects.get(k);
    if (!m) this.#objects.set(k, m = new Map());
    return m;
  }

  #get(account: string | null, id: string, kind: string): Obj {
    const o = this.#store(account).get(id);
    if (!o) {
      throw new StripeApiError(
        404,
        "invalid_request_error",
        "resource_missing",
        `No such ${kind}: '${id}'`,
        "id",
      );
    }
    return o;
  }

  /** A price a purchase names: refused, as Stripe does, when it or its product is archived. */
  #sellable(account: string | null, id: string, param: string): Obj {
    const price = this.#get(account, id, "price");
    const product = this.#get(account, price.product as string, "product");
    if (!price.active || !product.active) {
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "resource_missing",
        price.active
          ? "The price specified is attached to an inactive product."
          : "The price specified is inactive. This field only accepts active prices.",
        param,
      );
    }
    return price;
  }

  /** An object a parameter names: Stripe's 400 `resource_missing` naming the param if absent. */
  #named(account: string | null, id: string, param: string): Obj {
    const o = this.#store(account).get(id);
    if (!o || o.deleted) {
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "resource_missing",
        `No such ${param}: '${id}'`,
        param,
      );
    }
    return o;
  }

  /** The developer archives a price or a product in Stripe's dashboard. */
  archive(account: string | null, id: string): void {
    this.#get(account, id, "object").active = false;
  }

  /**
   * The developer deletes a product in Stripe's dashboard, which it allows for a product none of
   * whose prices was ever paid: the product and its prices are gone (retrieving them is a 404).
   */
  deleteProduct(account: string | null, id: string): void {
    const store = this.#store(account);
    this.#get(account, id, "product");
    for (const [k, o] of store) if (o.object === "price" && o.product === id) store.delete(k);
    store.delete(id);
  }

  /** The developer deletes a customer in Stripe's dashboard (a deleted customer stays, marked). */
  deleteCustomer(account: string | null, id: string): void {
    this.#store(account).set(id, { id, object: "customer", deleted: true });
  }

  /** An object by id in an account, for test assertions. */
  find(account: string | null, id: string): Obj | undefined {
    return this.#store(account).get(id);
  }

  /** All objects of a kind (by id prefix) in an account. */
  all(account: string | null, prefix: string): Obj[] {
    return [...this.#store(account).values()].filter((o) => o.id.startsWith(prefix));
  }

  /**
   * A page of a Stripe list: newest first, `limit` (1 – 100, default 10) objects after
   * `starting_after`, and whether more follow (`has_more`).
   */
  #page(
    account: string | null,
    list: { prefix: string; url: string },
    p: Params,
    keep: (o: Obj) => boolean,
  ) {
    const limit = p.limit === undefined ? 10 : Number(p.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new StripeApiError(
        400,
        "invalid_request_error",
        "parameter_invalid_integer",
        "This value must be greater than or equal to 1 and less than or equal to 100.",
        "limit",
      );
    }
    // objects are held in creation order (a change keeps an object's place)
    const all = this.all(account, list.prefix).filter(keep).reverse();
    let from = 0;
    if (p.starting_after !== undefined) {
      from = all.findIndex((o) => o.id === p.starting_after) + 1;
      if (from === 0) {
        throw new StripeApiError(
          400,
          "invalid_request_error",
          "resource_missing",
          `No such object: '${p.starting_after}'`,
          "starting_after",
        );
      }
    }
    const data = all.slice(from, from + limit);
    return { object: "list", data, has_more: from + limit < all.length, url: list.url };
  }

  async #handle(req: Request): Promise<Response> {
    const url = new URL(req.url);
    const live = req.headers.get("Authorization") === `Bearer ${this.apiKeyLive}`;
    const header = req.headers.get("Stripe-Account");
    const account = live ? liveScope(header) : header;
    const idemKey = req.headers.get("Idempotency-Key");
    this.requests.push({
      method: req.method,
      path: url.pathname,
      account,
      idempotencyKey: idemKey,
    });
    const down = this.outages.get(url.pathname) ?? 0;
    if (down > 0) {
      this.outages.set(url.pathname, down - 1);
      return Response.json({ error: { type: "api_error", message: "Stripe is down (double)" } }, {
        status: 500,
      });
    }
    const refusal = this.refusals.get(url.pathname);
    if (refusal) {
      const { status, times = 1, ...error } = refusal;
      if (times > 1) this.refusals.set(url.pathname, { ...refusal, times: times - 1 });
      else this.refusals.delete(url.pathname);
      return Response.json({ error }, { status });
    }
    try {
      if (!live && req.headers.get("Authorization") !== `Bearer ${this.apiKey}`) {
        throw new StripeApiError(
          401,
          "invalid_request_error",
          "api_key_invalid",
          "Invalid API Key provided",
        );
      }
      if (header && this.#revoked.has(header)) {
        throw new StripeApiError(
          403,
          "invalid_request_error",
          "account_invalid",
          `The provided key does not have access to account '${header}' (or that account does not exist). Application access may have been revoked.`,
        );
      }
      const raw = req.method === "GET" ? url.search.slice(1) : await req.text();
      this.requests.at(-1)!.raw = raw;
      const params = decodeForm(raw);
      if (req.method === "POST" && idemKey) {
        const prior = this.#idem.get(`${account}:${idemKey}`);
        if (prior && this.now() - prior.at < 86_400_000) {
          if (prior.params !== raw) {
            throw new StripeApiError(
              400,
              "idempotency_error",
              "idempotency_key_in_use",
              "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            );
          }
          return Response.json(prior.body, {
            status: prior.status,
            headers: { "Idempotent-Replayed": "true" },
          });
        }
      }
      const body = this.#route(req.method, url.pathname, params, account);
      if (req.method === "POST" && idemKey) {
        this.#idem.set(`${account}:${idemKey}`, { params: raw, status: 200, body, at: this.now() });
      }
      return Response.json(body);
    } catch (err) {
      if (err instanceof StripeApiError) {
        return Response.json({
          error: {
            type: err.type,
            code: err.code,
            message: err.message,
            ...(err.param ? { param: err.param } : {}),
          },
        }, { status: err.status });
      }
      return Response.json({ error: { type: "api_error", message: String(err) } }, { status: 500 });
    }
  }

  #route(method: string, path: string, p: Params, account: string | null): unknown {
    const s = this.#store(account);
    const put = (o: Obj) => (s.set(o.id, o), o);
    const ROUTES = [
      "/accounts",
      "/accounts/:id",
      "/account_links",
      "/products",
      "/products/:id",
      "/prices",
      "/prices/:id",
      "/checkout/sessions",
      "/checkout/sessions/:id",
      "/checkout/sessions/:id/expire",
      "/subscriptions",
      "/subscriptions/:id",
      "/billing_portal/sessions",
      "/customers",
      "/refunds",
      "/coupons",
      "/promotion_codes",
      "/promotion_codes/:id",
      "/billing/meters",
      "/billing/meter_events",
      "/invoices",
      "/invoices/:id/finalize",
      "/invoiceitems",
    ];
    const rest = path.replace(/^\/v1/, "");
    let key = "";
    let id: string | undefined;
    for (const r of ROUTES) {
      const m = new RegExp("^" + r.replace(":id", "([^/]+)") + "$").exec(rest);
      if (m) {
        key = `${method} ${r}`;
        id = m[1];
        break;
      }
    }
    switch (key) {
      case "POST /accounts": {
        const o = stripeShape<Obj>("account", {
          id: `acct_${randomBase62(16)}`,
          email: p.email ?? null,
          type: p.type ?? "standard",
          details_submitted: true,
          charges_enabled: true,
        });
        this.#store(platformOf(account)).set(o.id, o);
        return o;
      }
      case "GET /accounts/:id":
        return this.#get(platformOf(account), id!, "account");
      case "POST /account_links": {
        if (!p.account) throw missing("account");
        if (!p.type) throw missing("type");
        if (!p.return_url) throw missing("return_url");
        return stripeShape("account_link", {
          url: `${this.url}/onboard/${p.account}?return_to=${
            encodeURIComponent(p.return_url as string)
          }`,
          created: this.#sec(),
          expires_at: this.#sec() + 300,
        });
      }
      case "POST /products": {
        if (!p.name) throw missing("name");
        checkImages(p.images);
        return put(
          stripeShape<Obj>("product", {
            id: `prod_${randomBase62(14)}`,
            name: p.name,
            description: p.description ?? null,
            images: p.images ?? [],
            metadata: p.metadata ?? {},
            active: true,
            created: this.#sec(),
            package_dimensions: null,
          }),
        );
      }
      case "POST /products/:id": {
        const o = this.#get(account, id!, "product");
        checkImages(p.images);
        return put({ ...o, ...p, active: p.active === undefined ? o.active : p.active === "true" });
      }
      case "POST /prices": {
        if (!p.currency) throw missing("currency");
        if (!p.product) throw missing("product");
        if (p.unit_amount === undefined) throw missing("unit_amount");
        this.#get(account, p.product as string, "product");
        const rec = p.recurring as
          | { interval?: string; usage_type?: string; meter?: string }
          | undefined;
        if (rec?.usage_type === "metered") {
          if (!rec.meter) throw missing("recurring[meter]");
          this.#get(account, rec.meter, "billing.meter");
        }
        const tq = p.transform_quantity as { divide_by?: string; round?: string } | undefined;
        return put(stripeShape<Obj>("price", {
          id: `price_${randomBase62(14)}`,
          product: p.product,
          currency: p.currency,
          unit_amount: Number(p.unit_amount),
          unit_amount_decimal: String(p.unit_amount),
          type: rec ? "recurring" : "one_time",
          recurring: rec
            ? {
              interval: rec.interval,
              interval_count: 1,
              usage_type: rec.usage_type ?? "licensed",
              meter: rec.meter ?? null,
              trial_period_days: null,
            }
            : null,
          metadata: p.metadata ?? {},
          active: true,
          created: this.#sec(),
          transform_quantity: tq
            ? { divide_by: Number(tq.divide_by), round: tq.round ?? "up" }
            : null,
        }));
      }
      case "POST /billing/meters": {
        if (!p.event_name) throw missing("event_name");
        if (!p.display_name) throw missing("display_name");
        return put({
          id: `mtr_${randomBase62(14)}`,
          object: "billing.meter",
          event_name: p.event_name,
          display_name: p.display_name,
          default_aggregation: p.default_aggregation,
          customer_mapping: p.customer_mapping,
          value_settings: p.value_settings,
          status: "active",
          created: this.#sec(),
        });
      }
      case "POST /billing/meter_events": {
        if (!p.event_name) throw missing("event_name");
        const payload = p.payload as { stripe_customer_id?: string; value?: string } | undefined;
        if (!payload?.stripe_customer_id) throw missing("payload[stripe_customer_id]");
        const identifier = (p.identifier as string | undefined) ?? `mev_${randomBase62(14)}`;
        // Stripe keeps one event per identifier (deduplicated for at least 24 hours)
        return put({
          id: identifier,
          object: "billing.meter_event",
          event_name: p.event_name,
          identifier,
          payload,
          timestamp: Number(p.timestamp ?? this.#sec()),
          created: this.#sec(),
        });
      }
      case "GET /prices/:id": {
        const o = this.#get(account, id!, "price");
        const expand = (p.expand as string[] | undefined) ?? [];
        return expand.includes("product")
          ? { ...o, product: this.#get(account, o.product as string, "product") }
          : o;
      }
      case "POST /prices/:id": {
        const o = this.#get(account, id!, "price");
        return put({ ...o, active: p.active === undefined ? o.active : p.active === "true" });
      }
      case "POST /coupons": {
        if (!p.duration) throw missing("duration");
        if ((p.percent_off === undefined) === (p.amount_off === undefined)) {
          throw new StripeApiError(
            400,
            "invalid_request_error",
            "parameter_invalid",
            "Exactly one of percent_off and amount_off.",
          );
        }
        if (p.amount_off !== undefined && !p.currency) throw missing("currency");
        return put(stripeShape<Obj>("coupon", {
          id: `co_${randomBase62(10)}`,
          percent_off: p.percent_off === undefined ? null : Number(p.percent_off),
          amount_off: p.amount_off === undefined ? null : Number(p.amount_off),
          currency: p.currency ?? null,
          duration: p.duration,
          duration_in_months: p.duration_in_months ? Number(p.duration_in_months) : null,
          max_redemptions: p.max_redemptions ? Number(p.max_redemptions) : null,
          redeem_by: p.redeem_by ? Number(p.redeem_by) : null,
          name: p.name ?? null,
        }));
      }
      case "POST /promotion_codes": {
        const promotion = p.promotion as { type?: string; coupon?: string } | undefined;
        if (promotion?.type !== "coupon" || !promotion.coupon) throw missing("promotion");
        this.#get(account, promotion.coupon, "coupon");
        return put(stripeShape<Obj>("promotion_code", {
          id: `promo_${randomBase62(14)}`,
          code: p.code,
          active: true,
          promotion: { type: "coupon", coupon: promotion.coupon },
          expires_at: p.expires_at ? Number(p.expires_at) : null,
          max_redemptions: p.max_redemptions ? Number(p.max_redemptions) : null,
        }));
      }
      case "POST /promotion_codes/:id": {
        const o = this.#get(account, id!, "promotion_code");
        return put({ ...o, ...(p.active !== undefined ? { active: p.active === "true" } : {}) });
      }
      case "POST /checkout/sessions": {
        if (!p.mode) throw missing("mode");
        if (!p.success_url) throw missing("success_url");
        const items = (p.line_items as { price: string; quantity: string }[] | undefined) ?? [];
        if (items.length === 0) throw missing("line_items");
        if (p.customer) this.#named(account, p.customer as string, "customer");
        const life = p.expires_at === undefined ? null : Number(p.expires_at) - this.#sec();
        if (life !== null && (life < 1800 || life > 86400)) {
          throw new StripeApiError(
            400,
            "invalid_request_error",
            "parameter_invalid_integer",
            "The `expires_at` timestamp must be between 30 minutes and 24 hours from creation.",
            "expires_at",
          );
        }
        let total = 0;
        let currency = "usd";
        for (const li of items) {
          const price = this.#sellable(account, li.price, "line_items");
          total += (price.unit_amount as number) * Number(li.quantity ?? 1);
          currency = price.currency as string;
        }
        const discounts = (p.discounts as { promotion_code?: string }[] | undefined) ?? [];
        for (const d of discounts) {
          const promo = this.#get(account, d.promotion_code!, "promotion_code");
          if (!promo.active) {
            throw new StripeApiError(
              400,
              "invalid_request_error",
              "promotion_code_inactive",
              `The promotion code ${promo.code} is not active.`,
              "discounts",
            );
          }
          const coupon = this.#get(
            account,
            (promo.promotion as { coupon: string }).coupon,
            "coupon",
          );
          total -= coupon.percent_off !== null
            ? Math.round((total * (coupon.percent_off as number)) / 100)
            : Math.min(total, coupon.amount_off as number);
        }
        const sid = `cs_test_${randomBase62(40)}`;
        return put(stripeShape<Obj>("checkout.session", {
          id: sid,
          mode: p.mode,
          status: "open",
          payment_status: "unpaid",
          success_url: p.success_url,
          cancel_url: p.cancel_url ?? null,
          customer: p.customer ?? null,
          customer_email: p.customer_email ?? null,
          client_reference_id: p.client_reference_id ?? null,
          metadata: p.metadata ?? {},
          subscription: null,
          amount_total: total,
          amount_subtotal: total,
          currency,
          created: this.#sec(),
          expires_at: p.expires_at ? Number(p.expires_at) : this.#sec() + 86400,
          url: `https://checkout.stripe.test/c/pay/${sid}`,
          _line_items: items,
          _subscription_metadata:
            (p.subscription_data as { metadata?: Params } | undefined)?.metadata ?? {},
          // Stripe: subscription_data[trial_period_days] makes the subscription start trialing
          _trial_days: Number(
            (p.subscription_data as { trial_period_days?: string } | undefined)
              ?.trial_period_days ?? 0,
          ),
          shipping_cost: null,
        }));
      }
      case "GET /checkout/sessions/:id":
        return this.#public(this.#get(account, id!, "checkout.session"));
      case "POST /checkout/sessions/:id/expire": {
        const o = this.#get(account, id!, "checkout.session");
        if (o.status !== "open") {
          throw new StripeApiError(
            400,
            "invalid_request_error",
            "checkout_session_not_open",
            "Only open sessions can be expired.",
          );
        }
        return this.#public(put({ ...o, status: "expired" }));
      }
      case "GET /subscriptions/:id":
        return this.#get(account, id!, "subscription");
      case "GET /subscriptions": {
        // Stripe: without `status`, every subscription that is not canceled; `ended` adds the
        // incomplete_expired ones to the canceled; `all` is every status
        const status = p.status as string | undefined;
        return this.#page(
          account,
          { prefix: "sub_", url: "/v1/subscriptions" },
          p,
          (o) =>
            status === "all" ||
            (status === undefined
              ? o.status !== "canceled"
              : status === "ended"
              ? o.status === "canceled" || o.status === "incomplete_expired"
              : o.status === status),
        );
      }
      case "POST /subscriptions/:id": {
        const o = this.#get(account, id!, "subscription") as Obj & { items: { data: Obj[] } };
        let next: Obj = { ...o };
        if (p.cancel_at_period_end !== undefined) {
          next.cancel_at_period_end = p.cancel_at_period_end === "true";
        }
        const items = p.items as { id?: string; price?: string; deleted?: string }[] | undefined;
        if (items) {
          // recorded so tests can tell a prorated switch from one at renewal
          next.last_proration_behavior = p.proration_behavior ?? "create_prorations";
          // as Stripe: an item with an id is changed (or deleted), one without is added
          let data = [...o.items.data];
          for (const it of items) {
            if (it.id && !data.some((x) => x.id === it.id)) throw missing(`items[][id] ${it.id}`);
            if (it.deleted === "true") data = data.filter((x) => x.id !== it.id);
            else {
              const price = this.#sellable(account, it.price!, "items");
              data = it.id
                ? data.map((x) => x.id === it.id ? { ...x, price } : x)
                : [...data, { ...data[0]!, id: `si_${randomBase62(12)}`, price }];
            }
          }
          next = { ...next, items: { ...o.items, data } };
        }
        return put(next);
      }
      case "DELETE /subscriptions/:id": {
        const o = this.#get(account, id!, "subscription");
        if (o.status === "canceled") return o;
        return put({ ...o, status: "canceled", canceled_at: this.#sec(), ended_at: this.#sec() });
      }
      case "POST /customers":
        return put(stripeShape<Obj>("customer", {
          id: `cus_${randomBase62(14)}`,
          email: p.email ?? null,
          name: p.name ?? null,
          metadata: p.metadata ?? {},
          discount: null,
          created: this.#sec(),
        }));
      case "POST /refunds": {
        if (!p.payment_intent) throw missing("payment_intent");
        const paid = this.all(account, "cs_").find((x) => x.payment_intent === p.payment_intent);
        if (!paid) {
          throw new StripeApiError(
            404,
            "invalid_request_error",
            "resource_missing",
            `No such payment_intent: '${p.payment_intent}'`,
          );
        }
        const total = paid.amount_total as number;
        const before = (paid._refunded as number | undefined) ?? 0;
        const amount = p.amount === undefined ? total - before : Number(p.amount);
        if (!(amount > 0) || before + amount > total) {
          throw new StripeApiError(
            400,
            "invalid_request_error",
            "amount_too_large",
            `Refund amount (${amount}) is greater than unrefunded amount on charge (${
              total - before
            })`,
          );
        }
        s.set(paid.id as string, { ...paid, _refunded: before + amount });
        return put(stripeShape<Obj>("refund", {
          id: `re_${randomBase62(14)}`,
          amount,
          currency: paid.currency,
          payment_intent: p.payment_intent,
          charge: `ch_${randomBase62(14)}`,
          status: "succeeded",
          metadata: p.metadata ?? {},
          created: this.#sec(),
        }));
      }
      case "POST /invoices": {
        if (!p.customer) throw missing("customer");
        this.#named(account, p.customer as string, "customer");
        return this.#public(put(stripeShape<Obj>("invoice", {
          id: `in_${randomBase62(14)}`,
          customer: p.customer,
          currency: p.currency ?? "usd",
          status: "draft",
          billing_reason: "manual",
          collection_method: p.collection_method ?? "charge_automatically",
          auto_advance: p.auto_advance === "true",
          default_payment_method: p.default_payment_method ?? null,
          description: p.description ?? null,
          metadata: p.metadata ?? {},
          parent: null,
          subscription: null,
          amount_due: 0,
          amount_paid: 0,
          amount_remaining: 0,
          // the customer's other pending items join unless excluded (Stripe's default: include)
          _pending: p.pending_invoice_items_behavior ?? "include",
          created: this.#sec(),
        })));
      }
      case "POST /invoiceitems": {
        if (!p.customer) throw missing("customer");
        if (p.amount === undefined) throw missing("amount");
        const item = put(stripeShape<Obj>("invoiceitem", {
          id: `ii_${randomBase62(14)}`,
          customer: p.customer,
          amount: Number(p.amount),
          currency: p.currency ?? "usd",
          description: p.description ?? null,
          metadata: p.metadata ?? {},
          invoice: p.invoice ?? null,
          date: this.#sec(),
        }));
        if (p.invoice) {
          const inv = this.#get(account, p.invoice as string, "invoice");
          if (inv.status !== "draft") {
            throw new StripeApiError(
              400,
              "invalid_request_error",
              "invoice_not_editable",
              "You can only add invoice items to draft invoices.",
            );
          }
          const due = (inv.amount_due as number) + Number(p.amount);
          put({ ...inv, amount_due: due, amount_remaining: due });
        }
        return item;
      }
      case "POST /invoices/:id/finalize": {
        const inv = this.#get(account, id!, "invoice");
        if (inv.status !== "draft") {
          throw new StripeApiError(
            400,
            "invalid_request_error",
            "invoice_already_finalized",
            "This invoice is already finalized.",
          );
        }
        return this.#public(
          put({ ...inv, status: "open", auto_advance: p.auto_advance === "true" }),
        );
      }
      case "POST /billing_portal/sessions": {
        if (!p.customer) throw missing("customer");
        this.#named(account, p.customer as string, "customer");
        return stripeShape("billing_portal.session", {
          id: `bps_${randomBase62(14)}`,
          customer: p.customer,
          return_url: p.return_url ?? null,
          url: `https://billing.stripe.test/p/session/${randomBase62(20)}`,
          flow: null,
          livemode: false,
        });
      }
    }
    throw new StripeApiError(
      404,
      "invalid_request_error",
      "resource_missing",
      `Unrecognized request URL (${method}: ${path}).`,
    );
  }

  #public(o: Obj) {
    const {
      _line_items: _l,
      _subscription_metadata: _m,
      _refunded: _r,
      _trial_days: _t,
      _pending: _p,
      ...rest
    } = o;
    return rest;
  }

  #event(type: string, object: unknown, scope: string | null) {
    const live = scope?.startsWith(LIVE) ?? false;
    const account = live ? scope!.slice(LIVE.length) : scope;
    return stripeShape<Obj>("event", {
      id: `evt_${randomBase62(20)}`,
      type,
      created: this.#sec(),
      account: account === "platform" ? null : account,
      livemode: live,
      api_version: "2026-10-28.endive",
      data: { object },
      request: { id: null, idempotency_key: null },
    });
  }

  /** The customer pays: customer + subscription are created; the events Stripe would send. */
  pay(account: string | null, sessionId: string): Obj[] {
    const s = this.#store(account);
    const session = this.#get(account, sessionId, "checkout.session");
    const customer = (session.customer as string | null) ?? `cus_${randomBase62(14)}`;
    if (!s.has(customer)) {
      s.set(
        customer,
        stripeShape<Obj>("customer", {
          id: customer,
          email: session.customer_email ?? "payer@example.com",
          discount: null,
        }),
      );
    }
    const events: Obj[] = [];
    let subId: string | null = null;
    if (session.mode === "subscription") {
      const li = (session._line_items as { price: string }[])[0]!;
      const price = this.#get(account, li.price, "price") as Obj & {
        recurring: { interval: "month" | "year" };
      };
      const start = this.#sec();
      const trialDays = Number(session._trial_days ?? 0);
      const end = trialDays > 0 ? start + trialDays * 86400 : Math.floor(
        Date.parse(addInterval(new Date(start * 1000).toISOString(), price.recurring.interval)) /
          1000,
      );
      subId = `sub_${randomBase62(14)}`;
      const sub = stripeShape<Obj>("subscription", {
        id: subId,
        customer,
        status: trialDays > 0 ? "trialing" : "active",
        trial_start: trialDays > 0 ? start : null,
        trial_end: trialDays > 0 ? end : null,
        cancel_at_period_end: false,
        canceled_at: null,
        cancel_at: null,
        created: start,
        // Checkout saves the card on the subscription
        default_payment_method: `pm_${randomBase62(14)}`,
        metadata: session._subscription_metadata,
        items: {
          object: "list",
          has_more: false,
          data: [
            stripeShape("subscription_item", {
              id: `si_${randomBase62(12)}`,
              price,
              quantity: 1,
              subscription: subId,
              current_period_start: start,
              current_period_end: end,
              plan: null,
            }),
            // more line items (a metered price) are more subscription items
            ...(session._line_items as { price: string }[]).slice(1).map((more) =>
              stripeShape("subscription_item", {
                id: `si_${randomBase62(12)}`,
                price: this.#get(account, more.price, "price"),
                subscription: subId,
                current_period_start: start,
                current_period_end: end,
                plan: null,
              })
            ),
          ],
        },
      });
      s.set(subId, sub);
      events.push(this.#event("customer.subscription.created", sub, account));
    }
    const done = {
      ...session,
      status: "complete",
      payment_status: "paid",
      customer,
      subscription: subId,
      payment_intent: session.mode === "payment" ? `pi_${randomBase62(14)}` : null,
    };
    s.set(sessionId, done);
    events.push(this.#event("checkout.session.completed", this.#public(done), account));
    if (subId) {
      events.push(this.#event(
        "invoice.paid",
        stripeShape("invoice", {
          id: `in_${randomBase62(14)}`,
          customer,
          status: "paid",
          parent: {
            type: "subscription_details",
            subscription_details: { subscription: subId, metadata: session._subscription_metadata },
          },
          from_invoice: null,
          last_finalization_error: null,
        }),
        account,
      ));
    }
    return events;
  }

  /**
   * The developer removes the platform from their account (Stripe's dashboard): calls on it
   * are refused from now on; the event Stripe sends (to Connect endpoints) about it.
   */
  deauthorize(account: string): Obj {
    this.#revoked.add(account);
    return this.#event("account.application.deauthorized", {
      id: "ca_double_platform",
      object: "application",
      name: "dream-api",
    }, account);
  }

  /** The event Stripe sends after a subscription changed through the API. */
  subscriptionEvent(
    account: string | null,
    subId: string,
    type = "customer.subscription.updated",
  ): Obj {
    return this.#event(type, this.#get(account, subId, "subscription"), account);
  }

  /**
   * The period ends and Stripe drafts the renewal invoice: `invoice.created` (billing reason
   * subscription_cycle) for the period that ended, with the subscription's metadata.
   */
  invoiceCreated(account: string | null, subId: string): Obj {
    const sub = this.#get(account, subId, "subscription") as Obj & {
      items: { data: { current_period_start: number; current_period_end: number }[] };
    };
    const item = sub.items.data[0]!;
    return this.#event("invoice.created", {
      id: `in_${randomBase62(14)}`,
      object: "invoice",
      status: "draft",
      billing_reason: "subscription_cycle",
      customer: sub.customer,
      period_start: item.current_period_start,
      period_end: item.current_period_end,
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: subId, metadata: sub.metadata },
      },
    }, account);
  }

  /** The period ends: a canceling subscription is deleted (the event Stripe sends). */
  endPeriod(account: string | null, subId: string): Obj {
    const sub = this.#get(account, subId, "subscription");
    const ended = {
      ...sub,
      status: sub.cancel_at_period_end ? "canceled" : sub.status,
      ended_at: this.#sec(),
    };
    this.#store(account).set(subId, ended);
    return this.#event(
      sub.cancel_at_period_end ? "customer.subscription.deleted" : "customer.subscription.updated",
      ended,
      account,
    );
  }

  /** Signs an event with the webhook secret, as Stripe would deliver it. */
  async sign(event: Obj): Promise<{ payload: string; signature: string }> {
    const payload = JSON.stringify(event);
    return {
      payload,
      signature: await signPayload(this.#stripe, {
        payload,
        secret: this.webhookSecret,
        timestamp: this.#sec(),
      }),
    };
  }
}

/**
 * Connects the developer's test (or live) mode to a new account of the double through the real connect
 * flow (authorize → the double's onboarding → callback); answers the account id.
 */
export async function connectToDouble(
  srv: { base: string },
  developerToken: string,
  double: StripeDouble,
  mode: "test" | "live" = "test",
): Promise<string> {
  const auth = { Authorization: `Bearer ${developerToken}` };
  const go = await fetch(srv.base + `/v1/connect/authorize?mode=${mode}`, {
    headers: auth,
    redirect: "manual",
  });
  await go.body?.cancel();
  const onboarding = new URL(go.headers.get("location")!);
  if (!onboarding.href.startsWith(double.url + "/onboard/acct_")) {
    throw new Error(`unexpected onboarding ${onboarding.href}`);
  }
  const back = new URL(onboarding.searchParams.get("return_to")!);
  const cb = await fetch(srv.base + back.pathname + back.search, {
    headers: auth,
    redirect: "manual",
  });
  await cb.body?.cancel();
  return onboarding.pathname.split("/").pop()!;
}

/** The app config that points the real Stripe SDK at this double (test mode; live too if asked). */
export function stripeConfigFor(double: StripeDouble, o: { live?: boolean } = {}) {
  return {
    stripe: {
      secretKeyTest: double.apiKey,
      secretKeyLive: o.live ? double.apiKeyLive : null,
      webhookSecrets: [double.webhookSecret],
      apiUrl: double.url,
    },
  };
}

/**
 * Signs events as Stripe does and posts each to the app's webhook route; throws unless each is
 * answered 200. Answers their outcomes, in order.
 */
export async function deliverEvents(
  srv: { call: (method: string, path: string, o: CallOpts) => Promise<TestResponse> },
  double: StripeDouble,
  events: (Record<string, unknown> & { id: string })[],
): Promise<string[]> {
  const outcomes: string[] = [];
  for (const event of events) {
    const { payload, signature } = await double.sign(event);
    const res = await srv.call("POST", "/webhook/stripe", {
      raw: payload,
      headers: { "Content-Type": "application/json", "Stripe-Signature": signature },
    });
    if (res.status !== 200) throw new Error(`event ${event.id}: ${res.status} ${res.text}`);
    outcomes.push(res.body.outcome);
  }
  return outcomes;
}

/**
 * A developer with a project (of `o.tiers`) whose test mode is connected to a new account of a
 * Stripe double, the app served on a port: what an end-to-end test against Stripe starts from.
 * `config` adds to the app's config.
 */
export async function connectedProject(
  o: {
    type?: "saas" | "store";
    tiers: unknown[];
    live?: boolean;
    config?: Record<string, unknown>;
    /** How far Stripe's clock is ahead of ours (ms). */
    skewMs?: number;
  },
) {
  const clock = new TestClock();
  const double = new StripeDouble(() => clock.now() + (o.skewMs ?? 0)).start();
  const app = await testApp({
    clock,
    config: { ...stripeConfigFor(double, { live: o.live ?? false }), ...o.config },
  });
  const srv = servePort(app);
  const dev = await developer(app);
  const { pk, sk } = await project(app, dev.dat, { type: o.type ?? "saas", tiers: o.tiers });
  const account = await connectToDouble(srv, dev.dat, double);
  return {
    clock,
    double,
    app,
    srv,
    dev,
    pk,
    sk,
    account,
    async [Symbol.asyncDispose]() {
      await srv[Symbol.asyncDispose]();
      await app[Symbol.asyncDispose]();
      await double[Symbol.asyncDispose]();
    },
  };
}
