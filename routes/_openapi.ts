/** Shared OpenAPI pieces: the error shape, common responses and object schemas. */
import { IDEMPOTENCY_KEY_RE } from "@/lib/usage/track.ts";
import { z } from "@hono/zod-openapi";

export const ErrorSchema = z.object({
  error: z.object({
    code: z.string().openapi({ example: "validation_failed" }),
    message: z.string().openapi({ example: "Invalid price: Too small: expected number to be >=0" }),
    requestId: z.string().openapi({ example: "req_3fA9bC2dE7gH1jK4mN6p" }),
    details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    usage: z.any().optional(),
    provider: z.object({
      type: z.string().nullable(),
      code: z.string().nullable(),
      param: z.string().nullable(),
    }).optional().openapi({
      description: "With `payment_provider_error`: the provider's own error type, code and param",
    }),
  }).passthrough(),
  message: z.string().openapi({
    description: "The same sentence as `error.message` (the original dream-api SDK reads it)",
  }),
}).openapi("Error");

const err = (description: string) => ({
  description,
  content: { "application/json": { schema: ErrorSchema } },
});

/** The error answers every route may give, by status. */
export const ERRORS = {
  400: err("Malformed request: bad JSON, content type or header (`invalid_request`)"),
  401: err("Missing, unknown or revoked key or session (`invalid_api_key`, `unauthenticated`)"),
  403: err("Wrong kind of key, wrong project type, or another tenant's object (`forbidden`)"),
  404: err("Unknown object (`not_found`)"),
  409: err("Conflict: duplicate name, idempotency key reused (`conflict`)"),
  413: err("Body over the limit (`payload_too_large`)"),
  422: err("Well-formed but invalid values (`validation_failed`)"),
  429: err(
    "Tier limit reached (`tier_limit_reached`, with `usage`) or rate limited (`rate_limited`, `Retry-After`)",
  ),
} as const;

/** What routes that call the payment provider may answer besides (Stripe refusing, or down). */
export const PROVIDER_ERRORS = {
  502: err(
    "The payment provider refused the call; its reason is the message (`payment_provider_error`, with `provider`)",
  ),
  503: err("The payment provider is not answering (`service_unavailable`, `Retry-After`)"),
} as const;

export function ok<T extends z.ZodType>(schema: T, description = "OK") {
  return { description, content: { "application/json": { schema } } };
}

/**
 * A JSON request body. It is `required` when the schema refuses `{}`: the validator then always
 * runs (an empty or non-JSON body is 422 naming the missing fields, never an unvalidated `{}`
 * reaching the handler); a schema of optional fields takes an empty body as `{}`.
 */
export function jsonRequest<T extends z.ZodType>(schema: T) {
  return { content: { "application/json": { schema } }, required: !schema.safeParse({}).success };
}

export const UsageSchema = z.object({
  userId: z.string().openapi({ example: "user_42", description: "The customer" }),
  count: z.number().int().openapi({ example: 12 }),
  usageCount: z.number().int().openapi({ example: 12, description: "Equal to `count`" }),
  limit: z.number().int().nullable().openapi({ example: 100 }),
  remaining: z.number().int().nullable().openapi({ example: 88 }),
  overage: z.number().int().openapi({
    example: 0,
    description: "Calls past the limit this period, billed at period end (tiers with overage)",
  }),
  plan: z.string().openapi({ example: "free" }),
  periodStart: z.string().openapi({ example: "2026-11-01T00:00:00.000Z" }),
  periodEnd: z.string().openapi({ example: "2026-12-01T00:00:00.000Z" }),
}).openapi("Usage");

export const TierSchema = z.object({
  name: z.string().openapi({ example: "pro" }),
  displayName: z.string().openapi({ example: "Pro" }),
  price: z.number().int().openapi({ example: 1900 }),
  currency: z.string().openapi({ example: "usd" }),
  interval: z.enum(["month", "year"]).nullable().optional(),
  limit: z.number().int().nullable().optional().openapi({ example: 10000 }),
  trialDays: z.number().int().optional().openapi({
    description: "SaaS: free trial days a checkout starts with",
  }),
  overage: z.object({
    unitAmount: z.number().int(),
    per: z.number().int(),
    cap: z.number().int().nullable().optional(),
  }).nullable().optional().openapi({
    description: "SaaS: calls past the limit billed `unitAmount` per `per` calls, up to `cap`",
  }),
  inventory: z.number().int().nullable().optional(),
  soldOut: z.boolean().optional(),
  features: z.array(z.string()),
  popular: z.boolean(),
  description: z.string().nullable(),
  imageUrl: z.string().nullable(),
  priceId: z.string().nullable(),
  productId: z.string().nullable(),
  archived: z.boolean().openapi({
    description: "Hidden from /api/tiers, /api/products and new checkouts; subscribers stay on it",
  }),
}).openapi("Tier");

export const SubscriptionSchema = z.object({
  id: z.string(),
  tier: z.string().nullable(),
  status: z.string(),
  currentPeriodStart: z.string(),
  currentPeriodEnd: z.string(),
  cancelAtPeriodEnd: z.boolean(),
}).openapi("Subscription");

export const CustomerSchema = z.object({
  id: z.string().openapi({ example: "user_42" }),
  email: z.string().nullable(),
  name: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  plan: z.string().nullable().openapi({ example: "free" }),
  metadata: z.record(z.string(), z.string()),
  createdAt: z.string(),
  subscription: z.union([SubscriptionSchema, z.null()]),
  usage: UsageSchema,
}).openapi("Customer");

export const ProjectSchema = z.object({
  publishableKey: z.string().openapi({ example: "pk_test_8Fq2LmZx0aBcDeFgHiJkLmNo" }),
  name: z.string(),
  type: z.enum(["saas", "store"]),
  mode: z.enum(["test", "live"]),
  platformId: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
  livePublishableKey: z.string().nullable(),
  endUserAuth: z.object({
    jwtKey: z.string(),
    issuer: z.string().optional(),
    authorizedParties: z.array(z.string()).optional(),
  }).nullable().openapi({
    description: "End-user sign-in: Clerk session tokens of your app accepted as customer " +
      "tokens (X-Clerk-Token), verified with this PEM public key; null when off",
  }),
  currency: z.string().openapi({
    example: "usd",
    description: "What every tier is priced in; chosen at creation, fixed after",
  }),
  automaticTax: z.boolean().openapi({
    description: "Stripe Tax at checkout (automatic_tax with the buyer's billing address)",
  }),
  deletedAt: z.string().nullable().openapi({
    description: "When the project was deleted (its keys stopped then); null when it is not",
  }),
  purgeAt: z.string().nullable().openapi({
    description: "When a deleted project's data is removed for good; until then it can be restored",
  }),
  tiers: z.array(TierSchema),
}).openapi("Project");

export const SECRET = [{ secretKey: [] }];
export const CUSTOMER = [{ secretKey: [] }, { publishableKey: [], customerToken: [] }];
export const PUBLIC = [{ publishableKey: [] }, { secretKey: [] }];
export const DEVELOPER = [{ session: [] }, { accessToken: [] }];

/** `Idempotency-Key` where a retry must not act twice (tracking, checkouts, carts). */
export const IdempotencyKeyHeader = z.string().regex(
  IDEMPOTENCY_KEY_RE,
  "must be 1–255 visible ASCII characters",
).optional();

export const UserIdHeader = z.object({
  "x-user-id": z.string().optional().openapi({
    description: "Required with a secret key: the customer (your user id). With a customer " +
      "token, it may only repeat the token's customer.",
    example: "user_42",
  }),
});

/** A project named in the path (developer API). */
export const PkParam = z.object({
  pk: z.string().max(100).openapi({
    param: { name: "pk", in: "path" },
    example: "pk_test_8Fq2LmZx0aBcDeFgHiJkLmNo",
  }),
});

/** Cursor pagination: `limit` (1–100, default 25) and the `nextCursor` of the previous page. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().regex(/^[A-Za-z0-9_=-]{1,500}$/, "not a cursor this server gave out")
    .optional(),
});

export const OrderSchema = z.object({
  id: z.string().openapi({ example: "res_01JDQ8V6K3M2N4P5Q6R7S8T9V0" }),
  status: z.enum(["paid", "partially_refunded", "refunded"]),
  email: z.string().nullable(),
  name: z.string().nullable(),
  items: z.array(z.object({
    productId: z.string(),
    name: z.string(),
    quantity: z.number().int(),
    unitAmount: z.number().int(),
  })),
  amountTotal: z.number().int(),
  amountRefunded: z.number().int(),
  currency: z.string(),
  createdAt: z.string(),
}).openapi("Order");

export const OrderPageSchema = z.object({
  orders: z.array(OrderSchema),
  nextCursor: z.string().nullable(),
});
