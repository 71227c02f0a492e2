/** Configuration: read once from the environment, validated, frozen and passed in. */
import { z } from "zod";

const intFrom = (name: string, def: number, min = 0, max?: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === "") return def;
      const n = Number(v);
      if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
        ctx.addIssue({
          code: "custom",
          message: max === undefined
            ? `${name} must be an integer ≥ ${min}, got "${v}"`
            : `${name} must be an integer from ${min} to ${max}, got "${v}"`,
        });
        return z.NEVER;
      }
      return n;
    });

const EnvSchema = z.object({
  PORT: intFrom("PORT", 8000, 0),
  DATA_DIR: z.string().optional().default("./data"),
  BASE_URL: z.string().url().optional(),
  APP_SECRET: z.string().min(32, "APP_SECRET must be at least 32 characters").optional(),
  RATE_LIMIT_PER_KEY: intFrom("RATE_LIMIT_PER_KEY", 10_000),
  RATE_LIMIT_PER_CUSTOMER: intFrom("RATE_LIMIT_PER_CUSTOMER", 1_000),
  AUTH_RATE_LIMIT_PER_MINUTE: intFrom("AUTH_RATE_LIMIT_PER_MINUTE", 30),
  TRUST_PROXY: z.enum(["0", "1", "2", "3", "4", "5", "true", "false"]).optional().default("0"),
  HOLDS_PER_CLIENT: intFrom("HOLDS_PER_CLIENT", 20),
  UPLOAD_QUOTA_MB: intFrom("UPLOAD_QUOTA_MB", 100),
  USAGE_FOLD_ROWS: intFrom("USAGE_FOLD_ROWS", 2000, 1),
  USAGE_BUCKET_AT: intFrom("USAGE_BUCKET_AT", 512, 1),
  PASSWORD_ITERATIONS: intFrom("PASSWORD_ITERATIONS", 600_000, 600_000),
  SESSION_TTL_HOURS: intFrom("SESSION_TTL_HOURS", 24 * 7, 1),
  CACHE_TTL_MS: intFrom("CACHE_TTL_MS", 2_000, 0),
  MAX_BODY_BYTES: intFrom("MAX_BODY_BYTES", 64 * 1024, 1024),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).optional().default("info"),
  STRIPE_SECRET_KEY_TEST: z.string().regex(/^(sk|rk)_test_/, "must be a test-mode key (sk_test_…)")
    .optional(),
  STRIPE_SECRET_KEY_LIVE: z.string().regex(/^(sk|rk)_live_/, "must be a live-mode key (sk_live_…)")
    .optional(),
  STRIPE_WEBHOOK_SECRETS: z.string().optional(),
  STRIPE_API_URL: z.string().url().optional(),
  PLATFORM_PRICE_CENTS: intFrom("PLATFORM_PRICE_CENTS", 0),
  PLATFORM_CURRENCY: z.string().regex(/^[a-z]{3}$/).optional().default("usd"),
  SANDBOX_TICK_MS: intFrom("SANDBOX_TICK_MS", 1000),
  WEBHOOK_ALLOW_PRIVATE: z.enum(["0", "1"]).optional().default("0"),
  METRICS_TOKEN: z.string().min(16, "METRICS_TOKEN must be at least 16 characters").optional(),
  KV_URL: z.string().url("KV_URL must be the URL of a KV Connect endpoint").optional(),
  RECONCILE_INTERVAL_MINUTES: intFrom("RECONCILE_INTERVAL_MINUTES", 360),
  S3_ENDPOINT: z.string().url().optional(),
  S3_BUCKET: z.string().min(3).max(63).optional(),
  S3_REGION: z.string().optional().default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  // a Checkout session lives 30 minutes to 24 hours (Stripe), and a hold ends with its session
  RESERVATION_MINUTES: intFrom("RESERVATION_MINUTES", 30, 30, 1440),
  WEBHOOK_CONCURRENCY: intFrom("WEBHOOK_CONCURRENCY", 32, 1, 1024),
  CLERK_PUBLISHABLE_KEY: z.string().regex(/^pk_(test|live)_/, "must be a Clerk publishable key")
    .optional(),
  CLERK_SECRET_KEY: z.string().regex(/^sk_(test|live)_/, "must be a Clerk secret key").optional(),
  CLERK_JWT_KEY: z.string().includes("PUBLIC KEY", {
    message: "must be the instance's PEM public key",
  }).optional(),
  CLERK_AUTHORIZED_PARTIES: z.string().optional(),
});

export interface Config {
  /** Outbound webhooks may target private, loopback and link-local addresses (development). */
  readonly webhookAllowPrivate: boolean;
  /** Endpoints one instance sends outbound webhooks to at once. */
  readonly webhookConcurrency: number;
  /** Bearer token for GET /metrics; null turns the endpoint (and all recording) off. */
  readonly metricsToken: string | null;
  /** A remote KV (KV Connect URL) instead of the local file; null: DATA_DIR/kv.sqlite3. */
  readonly kvUrl: string | null;
  readonly port: number;
  readonly dataDir: string;
  /** Public origin of the server, e.g. https://api.example.com; derived from requests when unset. */
  readonly baseUrl: string | null;
  /** Secret for signing customer tokens; from APP_SECRET or a generated file under DATA_DIR. */
  readonly appSecret: string | null;
  readonly rateLimitPerKey: number;
  readonly rateLimitPerCustomer: number;
  /** Sign-up and sign-in attempts per client address per minute (0 = off). */
  readonly authRateLimitPerMinute: number;
  /** How many proxies in front append to `X-Forwarded-For` (0: trust none of it). */
  readonly trustProxy: number;
  /** Unpaid store checkouts one client address may hold per project at once (0 = no bound). */
  readonly holdsPerClient: number;
  /** Bytes of images each developer may store (0 = no quota). */
  readonly uploadQuotaBytes: number;
  /** Unfolded usage-log rows of a project that make the meter fold them into counters. */
  readonly usageFoldRows: number;
  /** Distinct keys in a fold's window from which it folds into the tally buckets. */
  readonly usageBucketAt: number;
  readonly passwordIterations: number;
  readonly sessionTtlMs: number;
  /** How long another instance's change (tier limit, key revocation) may take to reach this one. */
  readonly cacheTtlMs: number;
  readonly maxBodyBytes: number;
  readonly logLevel: "debug" | "info" | "warn" | "error";
  /** Real Stripe when set; else the offline sandbox. */
  readonly stripe: {
    secretKeyTest: string;
    secretKeyLive: string | null;
    webhookSecrets: string[];
    /** Another API base (a Stripe-API double in tests). */
    apiUrl: string | null;
  } | null;
  /** Monthly platform price developers pay the operator; 0 turns the platform plan off. */
  readonly platformPriceCents: number;
  readonly platformCurrency: string;
  /** How often the sandbox moves its subscriptions and sessions forward in time. */
  readonly sandboxTickMs: number;
  /** How often the server compares subscriptions with Stripe (0 = never; events can be missed). */
  readonly reconcileIntervalMinutes: number;
  /** S3-compatible storage for images; null = local files under DATA_DIR/assets. */
  readonly s3: {
    endpoint: string;
    bucket: string;
    region: string;
    accessKeyId: string;
    secretAccessKey: string;
  } | null;
  /** How long a store checkout holds its stock (Stripe's minimum session life is 30 minutes). */
  readonly reservationMinutes: number;
  /** Clerk sign-in (instead of built-in accounts on the pages) when its keys are set. */
  readonly clerk: {
    publishableKey: string;
    secretKey: string;
    jwtKey: string;
    authorizedParties: string[];
  } | null;
}

export class ConfigError extends Error {}

/**
 * Reads and validates the environment into a frozen `Config`. A wrong value throws a
 * `ConfigError` naming the variable, so startup stops with a clear line.
 */
export function loadConfig(env: Record<string, string | undefined>): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const msg = parsed.error.issues
      .map((i) => `${i.path.join(".") || "env"}: ${i.message}`)
      .join("; ");
    throw new ConfigError(`Invalid configuration: ${msg}`);
  }
  const e = parsed.data;
  if (e.S3_ENDPOINT && (!e.S3_BUCKET || !e.S3_ACCESS_KEY_ID || !e.S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError(
      "Invalid configuration: S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are required with S3_ENDPOINT",
    );
  }
  if (
    (e.CLERK_PUBLISHABLE_KEY || e.CLERK_SECRET_KEY) &&
    !(e.CLERK_PUBLISHABLE_KEY && e.CLERK_SECRET_KEY && e.CLERK_JWT_KEY)
  ) {
    throw new ConfigError(
      "Invalid configuration: CLERK_PUBLISHABLE_KEY, CLERK_SECRET_KEY and CLERK_JWT_KEY (PEM public key, for networkless verification) go together",
    );
  }
  if (e.STRIPE_SECRET_KEY_TEST && !e.STRIPE_WEBHOOK_SECRETS) {
    throw new ConfigError(
      "Invalid configuration: STRIPE_WEBHOOK_SECRETS: required with STRIPE_SECRET_KEY_TEST (whsec_… of the platform and Connect endpoints, comma-separated)",
    );
  }
  return Object.freeze({
    port: e.PORT,
    dataDir: e.DATA_DIR,
    baseUrl: e.BASE_URL ? e.BASE_URL.replace(/\/+$/, "") : null,
    appSecret: e.APP_SECRET ?? null,
    rateLimitPerKey: e.RATE_LIMIT_PER_KEY,
    rateLimitPerCustomer: e.RATE_LIMIT_PER_CUSTOMER,
    authRateLimitPerMinute: e.AUTH_RATE_LIMIT_PER_MINUTE,
    trustProxy: e.TRUST_PROXY === "true"
      ? 1
      : e.TRUST_PROXY === "false"
      ? 0
      : Number(e.TRUST_PROXY),
    holdsPerClient: e.HOLDS_PER_CLIENT,
    uploadQuotaBytes: e.UPLOAD_QUOTA_MB * 1024 * 1024,
    usageFoldRows: e.USAGE_FOLD_ROWS,
    usageBucketAt: e.USAGE_BUCKET_AT,
    passwordIterations: e.PASSWORD_ITERATIONS,
    sessionTtlMs: e.SESSION_TTL_HOURS * 3600_000,
    cacheTtlMs: e.CACHE_TTL_MS,
    maxBodyBytes: e.MAX_BODY_BYTES,
    logLevel: e.LOG_LEVEL,
    stripe: e.STRIPE_SECRET_KEY_TEST
      ? {
        secretKeyTest: e.STRIPE_SECRET_KEY_TEST,
        secretKeyLive: e.STRIPE_SECRET_KEY_LIVE ?? null,
        webhookSecrets: (e.STRIPE_WEBHOOK_SECRETS ?? "").split(",").map((x) => x.trim()).filter(
          Boolean,
        ),
        apiUrl: e.STRIPE_API_URL ?? null,
      }
      : null,
    platformPriceCents: e.PLATFORM_PRICE_CENTS,
    platformCurrency: e.PLATFORM_CURRENCY,
    sandboxTickMs: e.SANDBOX_TICK_MS,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === "1",
    webhookConcurrency: e.WEBHOOK_CONCURRENCY,
    metricsToken: e.METRICS_TOKEN ?? null,
    kvUrl: e.KV_URL ?? null,
    reconcileIntervalMinutes: e.RECONCILE_INTERVAL_MINUTES,
    s3: e.S3_ENDPOINT
      ? {
        endpoint: e.S3_ENDPOINT,
        bucket: e.S3_BUCKET!,
        region: e.S3_REGION,
        accessKeyId: e.S3_ACCESS_KEY_ID!,
        secretAccessKey: e.S3_SECRET_ACCESS_KEY!,
      }
      : null,
    reservationMinutes: e.RESERVATION_MINUTES,
    clerk: e.CLERK_PUBLISHABLE_KEY && e.CLERK_SECRET_KEY && e.CLERK_JWT_KEY
      ? {
        publishableKey: e.CLERK_PUBLISHABLE_KEY,
        secretKey: e.CLERK_SECRET_KEY,
        jwtKey: e.CLERK_JWT_KEY,
        authorizedParties: (e.CLERK_AUTHORIZED_PARTIES ?? "").split(",").map((x) => x.trim())
          .filter(Boolean),
      }
      : null,
  });
}

/** A config for tests: defaults plus overrides, without touching `Deno.env`. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  return Object.freeze({
    ...loadConfig({ APP_SECRET: "test-secret-test-secret-test-secret-0123" }),
    ...overrides,
  });
}
