/**
 * The hot path: `POST /api/data` and `GET /api/usage` with a secret key, served without the
 * general middleware stack but through the same domain functions as the routes
 * (routes/api/usage.ts). It answers the common case, when key and project are already in this
 * instance's caches and the request is plain; a customer (and, for reads, its count) not held
 * yet is read first, as the full app reads it, and a call tracking a new one creates it, as the
 * full app does (a read of one answers it as new). Anything else (first sight of a key,
 * publishable keys, a malformed Idempotency-Key, bad input, a store read that failed, other
 * endpoints) falls through to the full app, which gives the same answers and warms the caches
 * (and takes no rate-limit token again for a call whose tokens were taken here). A tracking
 * commit that failed is answered here, as the full app answers it (500, logged). A well-formed
 * Idempotency-Key is honoured here as there (this server's SDK sends one with every call).
 * A cached read, and a call the counts held already refuse (its body arrived), are answered
 * synchronously. Request headers are read one by one natively (`headerSource`), never through
 * `request.headers`, which would make Deno copy them all and answer through a promise. Tests
 * run the usage cases through both paths.
 */
import type { Services } from "@/lib/services.ts";
import { sha256HexSync } from "@/lib/crypto.ts";
import { CUSTOMER_ID_RE, SK_RE } from "@/lib/ids.ts";
import {
  customerForTracking,
  findCustomer,
  unsavedCustomer,
  usageOf,
} from "@/lib/customers/customers.ts";
import { AppError, STATUS_OF } from "@/lib/errors.ts";
import { readTextLimited, textNowLimited, tooLarge } from "@/lib/http/body.ts";
import { JSON_TYPE_RE } from "@/lib/http/request.ts";
import { type HeaderSource, headerSource } from "@/lib/http/native_request.ts";
import { rateBuckets, rateLimitError, rateTaken } from "@/lib/http/middleware/api_auth.ts";
import { CORS_EXPOSE_HEADERS, requestIdOf } from "@/lib/http/security.ts";
import { errorBody, storeInputError, unhandled } from "@/lib/http/errors.ts";
import {
  IDEMPOTENCY_KEY_RE,
  QUANTITY_MAX,
  QUANTITY_MIN,
  tierLimitMessage,
  type TrackResult,
  tryTrackUsage,
  tryTrackUsageNow,
} from "@/lib/usage/track.ts";
import { planOf, planSpan } from "@/lib/usage/plan.ts";
import { usageJson, usageView } from "@/lib/usage/meter.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import type { CacheEntry } from "@/lib/cache.ts";
import type { CountMemo } from "@/lib/usage/held.ts";

const JSON_CT = { "Content-Type": "application/json" };
const REPLAYED = { "Idempotent-Replayed": "true" };
const CORS: [string, string][] = [
  ["Access-Control-Allow-Origin", "*"],
  ["Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS.join(",")],
];

/** A response, or the request to hand to the full app (its body re-attached when it was read). */
export type HotResult = Response | Request | null;

/** A `POST /api/data` the hot path answers: `customer` null when it is not cached yet. */
interface TrackCall {
  project: Project;
  userId: string;
  customer: Customer | null;
  key: string | null;
}

export function createHotPath(s: Services, securityHeaders: [string, string][]) {
  /** A JSON answer (200 unless `o.status`) with the same headers the full app gives. */
  function respond(
    hs: HeaderSource,
    json: string | ((requestId: string) => string),
    o?: { status: number; headers: Record<string, string> },
  ) {
    const incoming = hs.header("x-request-id");
    const requestId = requestIdOf(incoming);
    const body = typeof json === "string" ? json : json(requestId);
    if (o !== undefined && o.status !== 200) return respondNative(hs, body, requestId, o);
    // a 200 with Content-Type alone in the constructor takes Deno's fast path; the others are
    // appended (cheaper than a list given to the constructor, which Deno converts and validates
    // whole, and than a record, with which Deno builds a native response: 0.975 on the floor)
    const res = new Response(body, { status: 200, headers: JSON_CT });
    const h = res.headers;
    for (const [k, v] of securityHeaders) h.append(k, v);
    h.append("X-Request-Id", requestId);
    if (hs.header("origin") !== null) { for (const [k, v] of CORS) h.append(k, v); }
    if (o) { for (const k in o.headers) h.append(k, o.headers[k]!); }
    return res;
  }

  /**
   * Any other status: every header given to the constructor as a record. Deno builds a native
   * response for a status other than 200 whatever is passed, and touching `headers` afterwards
   * drops it and builds it again; given whole, it is built once and sent as it is (a refusal
   * answered ~2 – 3 µs sooner: docs/performance_journal.md, the seventeenth session).
   */
  function respondNative(
    hs: HeaderSource,
    body: string,
    requestId: string,
    o: { status: number; headers: Record<string, string> },
  ): Response {
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    for (const [k, v] of securityHeaders) headers[k] = v;
    headers["X-Request-Id"] = requestId;
    if (hs.header("origin") !== null) { for (const [k, v] of CORS) headers[k] = v; }
    for (const k in o.headers) headers[k] = o.headers[k]!;
    return new Response(body, { status: o.status, headers });
  }

  const fail = (hs: HeaderSource, err: AppError) =>
    respond(hs, (id) => JSON.stringify(errorBody(err, id)), {
      status: err.status,
      headers: err.headers,
    });

  /**
   * A tracking call that failed after it may have been counted (its commit failed): answered
   * here as the full app's `onError` answers it — logged with the request's id, 500
   * `internal_error` (an error only the input causes, as there, 400) — not handed over, which
   * would track it a second time.
   */
  const failedTracking = (hs: HeaderSource, err: unknown) => {
    if (err instanceof AppError) return fail(hs, err);
    const known = storeInputError(err);
    if (known) return fail(hs, known);
    return respond(
      hs,
      (requestId) =>
        JSON.stringify(
          errorBody(unhandled(s.logger, { requestId, path: "/api/data", err }), requestId),
        ),
      { status: 500, headers: {} },
    );
  };

  // well-formed secret key → its SHA-256, for keys seen lately (process memory only, never
  // stored); a key found here was checked against SK_RE when it was added
  const hashes = new Map<string, string>();
  // the Authorization header seen last and its key's hash: most callers use one key, whose
  // header is then compared, not sliced, trimmed and looked up
  let lastAuth = "";
  let lastHash = "";
  /** The hash of the secret key in an `Authorization: Bearer sk_…` header; null if malformed. */
  function hashOf(auth: string): string | null {
    if (auth === lastAuth) return lastHash;
    const sk = auth.slice(7).trim();
    let h = hashes.get(sk);
    if (h === undefined) {
      if (!SK_RE.test(sk)) return null;
      if (hashes.size > 10_000) hashes.clear();
      h = sha256HexSync(sk);
      hashes.set(sk, h);
    }
    lastAuth = auth;
    lastHash = h;
    return h;
  }

  /** The per-key and per-customer rate limits, the same buckets as the full path. */
  function limited(hs: HeaderSource, pk: string, userId: string): Response | null {
    const err =
      rateLimitError(s, () => rateBuckets.key("sk", pk), s.config.rateLimitPerKey, "secret key") ??
        rateLimitError(
          s,
          () => rateBuckets.customer(pk, userId),
          s.config.rateLimitPerCustomer,
          "customer",
        );
    return err ? fail(hs, err) : null;
  }

  /**
   * `POST /api/data`: its body taken at once when it has arrived (else read first), then
   * `counted`. Answered synchronously when nothing needs waiting for (a refusal decided on the
   * counts held), else a promise.
   */
  function track(
    req: Request,
    hs: HeaderSource,
    call: TrackCall,
  ): HotResult | Promise<HotResult> {
    const max = s.config.maxBodyBytes;
    const now = textNowLimited(req, max, hs);
    if (now !== undefined) return counted(req, hs, call, now);
    return readTextLimited(req, max, hs).then((rawBody) =>
      rawBody === null ? fail(hs, tooLarge(max)) : counted(req, hs, call, rawBody)
    );
  }

  /**
   * `POST /api/data` with its body read: validated, limited, tracked (with its Idempotency-Key,
   * `key`, when it has one) and answered.
   */
  function counted(
    req: Request,
    hs: HeaderSource,
    call: TrackCall,
    rawBody: string,
  ): HotResult | Promise<HotResult> {
    const { project, key } = call;
    const fallback = () =>
      new Request(req.url, { method: req.method, headers: req.headers, body: rawBody });
    let quantity = 1;
    if (rawBody.trim() !== "") {
      if (!JSON_TYPE_RE.test(hs.header("content-type") ?? "")) return fallback();
      let parsed: unknown;
      try {
        parsed = JSON.parse(rawBody);
      } catch {
        return fallback();
      }
      if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return fallback();
      const qty = (parsed as { quantity?: unknown }).quantity;
      if (qty !== undefined) {
        if (
          typeof qty !== "number" || !Number.isInteger(qty) || qty < QUANTITY_MIN ||
          qty > QUANTITY_MAX
        ) {
          return fallback();
        }
        quantity = qty;
      }
    }
    const refused = limited(hs, project.pk, call.userId);
    if (refused) return refused;
    const customer = call.customer;
    if (customer !== null) return tracked(hs, project, { customer, quantity, key });
    // not cached here: read, or created on the free tier as the full path creates it (not when
    // this quantity is refused anyway), after the rate limits as there; a store that failed is
    // the full path's to answer (creating is atomic: it finds the customer or creates it)
    return customerForTracking(s, project, { id: call.userId, quantity }).then(
      (found) => tracked(hs, project, { customer: found, quantity, key }),
      (err) => {
        if (err instanceof AppError) return fail(hs, err);
        const handed = fallback();
        rateTaken.add(handed); // its tokens were taken above: the full app takes none again
        return handed;
      },
    );
  }

  /** The call tracked (with its Idempotency-Key, `key`, when it has one) and answered. */
  function tracked(
    hs: HeaderSource,
    project: Project,
    o: { customer: Customer; quantity: number; key: string | null },
  ): Response | Promise<Response> {
    const { customer, quantity, key } = o;
    const failed = (err: unknown) => failedTracking(hs, err);
    try {
      const res = key === null
        ? tryTrackUsageNow(s, project, { customer, quantity })
        : tryTrackUsage(s, project, { customer, quantity, idempotencyKey: key });
      return res instanceof Promise ? res.then((r) => answer(hs, r), failed) : answer(hs, res);
    } catch (err) {
      return failed(err);
    }
  }

  /** What tracking answered, as the full path answers it. */
  function answer(hs: HeaderSource, res: TrackResult): Response {
    if (res.kind === "limited") {
      // the TierLimitError the full path throws, answered without making an Error: the bytes
      // of JSON.stringify(errorBody(…)), written from a template (a quarter or more of the
      // calls of a busy API can be refusals); a request id needs no escaping (REQUEST_ID_RE)
      const message = JSON.stringify(tierLimitMessage(res.usage, res.quantity));
      const usage = usageJson(res.usage);
      return respond(
        hs,
        (id) =>
          `{"error":{"code":"tier_limit_reached","message":${message},"requestId":"${id}","usage":${usage}},"message":${message}}`,
        { status: STATUS_OF.tier_limit_reached, headers: {} },
      );
    }
    if (res.kind === "replayed") {
      return respond(hs, JSON.stringify(res.record.body), { status: 200, headers: REPLAYED });
    }
    return respond(hs, `{"success":true,"usage":${usageJson(res.usage)}}`);
  }

  /**
   * The `GET /api/usage` answer from what is cached, or null when the count is not. The answer
   * made last for this customer's count note is given again while nothing it was made from has
   * moved: the count (same cell, same number, its head confirmed lately), the project (the same
   * cached object) and the clock (inside the span its plan and period hold for); the customer
   * is the cached entry's, whose note is cleared when it is set again.
   */
  function usageAnswer(
    project: Project,
    customer: Customer,
    entry: CacheEntry<Customer, CountMemo>,
  ): string | null {
    const now = s.clock.now();
    const memo = entry.aux;
    const made = memo?.answer;
    if (
      made !== undefined && made.source === project && now >= made.from && now < made.until &&
      s.meter.countOf(memo!, now) === made.n
    ) return made.json;
    const { plan, limit, period, overage } = planOf(s, project, customer);
    const count = s.meter.peekCached(project.pk, customer.id, period, entry);
    if (count === undefined) return null;
    const json = `{"usage":${
      usageJson(
        usageView({ customerId: customer.id, plan: plan ?? "", limit, period, overage }, count),
      )
    }}`;
    entry.aux!.answer = { n: count, json, source: project, ...planSpan(customer, period, now) };
    return json;
  }

  /**
   * Answers synchronously when it can (a cached usage read, a refusal decided on the counts
   * held), else a promise, else null.
   */
  return function hot(req: Request): HotResult | Promise<HotResult> {
    const url = req.url;
    const start = url.indexOf("/", url.indexOf("//") + 2);
    const q = url.indexOf("?", start);
    const path = q < 0 ? url.slice(start) : url.slice(start, q);
    const isTrack = path === "/api/data" && req.method === "POST";
    if (!isTrack && !(path === "/api/usage" && req.method === "GET")) return null;

    // read natively, never through req.headers (native_request.ts: Deno then answers at once)
    const hs = headerSource(req);
    const auth = hs.header("authorization");
    if (!auth || !auth.startsWith("Bearer sk_")) return null;
    const hash = hashOf(auth);
    if (hash === null) return null;
    const ptr = s.caches.secrets.get(hash);
    if (!ptr || (ptr.expiresAt !== null && ptr.expiresAt <= s.clock.now())) return null;
    if (!s.epochs.fresh(ptr.pk)) return null; // the full path confirms the project first
    const project = s.caches.projects.get(ptr.pk);
    if (!project || project.type !== "saas" || project.deletedAt) return null;
    const userId = hs.header("x-user-id");
    if (!userId) return null;
    // the original SDK's headers: the full path checks the project and the end-user token
    if (hs.header("x-clerk-token") !== null || hs.header("x-publishable-key") !== null) return null;
    // only valid ids are cached, so a hit is a valid id; any other the full path refuses (400)
    const entry = s.caches.customers.entry(project.pk, userId);
    if (!entry && !CUSTOMER_ID_RE.test(userId)) return null;

    // an Idempotency-Key only means something to POST /api/data; one the full path would refuse
    // (400) is handed over
    if (isTrack) {
      const key = hs.header("idempotency-key");
      if (key !== null && !IDEMPOTENCY_KEY_RE.test(key)) return null;
      // a customer not cached is read (or created) once the body is read and the call is known
      // not to be refused for its shape
      return track(req, hs, { project, userId, customer: entry?.value ?? null, key });
    }
    if (entry) {
      const json = usageAnswer(project, entry.value, entry);
      if (json !== null) return limited(hs, project.pk, userId) ?? respond(hs, json);
    }
    // the customer or its count is not held here yet: read as the full path reads them (a read
    // that failed is handed over, for it to answer the error)
    const found = entry ? Promise.resolve(entry.value) : findCustomer(s, project.pk, userId);
    return found.then(async (customer) => {
      // a customer never seen reads as new (its free tier, nothing used) and is not created
      if (!customer) {
        const usage = await usageOf(s, project, unsavedCustomer(s, project, userId));
        return limited(hs, project.pk, userId) ?? respond(hs, `{"usage":${usageJson(usage)}}`);
      }
      await s.meter.peek(project.pk, customer.id, planOf(s, project, customer).period);
      const held = s.caches.customers.entry(project.pk, userId);
      const json = held ? usageAnswer(project, held.value, held) : null;
      return json === null ? null : limited(hs, project.pk, userId) ?? respond(hs, json);
    }).catch(() => null);
  };
}
