/** The injected dependencies and the per-app services built on them. */
import { secretBoxKey } from "@/lib/crypto.ts";
import type { Config } from "@/lib/config.ts";
import type { Logger } from "@/lib/logger.ts";
import { ProjectEpochs, ProjectScopedCache, TtlCache } from "@/lib/cache.ts";
import { readEpoch } from "@/lib/kv/project_epochs.ts";
import { UsageMeter } from "@/lib/usage/meter.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import type { CountMemo } from "@/lib/usage/held.ts";
import type { Project, SecretPointer } from "@/lib/kv/projects.ts";
import { RateLimiter } from "@/lib/rate_limit.ts";
import type { PaymentProvider } from "@/lib/payments/provider.ts";
import { SandboxProvider } from "@/lib/payments/sandbox/provider.ts";
import { StripeProvider } from "@/lib/payments/stripe.ts";
import type { ObjectStorage } from "@/lib/storage/storage.ts";
import { FsStorage } from "@/lib/storage/fs.ts";
import { S3Storage } from "@/lib/storage/s3.ts";
import { KeyedMutex } from "@/lib/mutex.ts";
import { Gate } from "@/lib/gate.ts";

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** What `createApp` is given. */
export interface Deps {
  config: Config;
  kv: Deno.Kv;
  clock?: Clock;
  logger?: Logger;
  /** A payment provider; by default Stripe when configured, else the sandbox. */
  payments?: PaymentProvider;
  /** Image storage; by default S3 when configured, else files under DATA_DIR/assets. */
  storage?: ObjectStorage;
}

/** What domain functions receive: the deps plus this instance's caches and meter. */
export interface Services {
  config: Config;
  kv: Deno.Kv;
  clock: Clock;
  logger: Logger;
  meter: UsageMeter;
  /** HMAC key for customer tokens, derived from the app secret. */
  tokenKey: Uint8Array;
  /** AES-GCM key for webhook signing secrets at rest, derived from the app secret. */
  webhookKey: CryptoKey;
  /** `usage.limit_reached` already written for these customer periods (no KV read per 429). */
  limitNotified: Set<string>;
  caches: {
    /** secret-key hash → pointer; a rotated or revoked key is seen here within `cacheTtlMs`
     * (its project's epoch moves). Found entries stay until their project's epoch moves. */
    secrets: TtlCache<SecretPointer | null>;
    projects: TtlCache<Project | null>;
    /**
     * customers by project and id; a project's go at once when its epoch moves. Beside each, the
     * hot path keeps the meter's cell of its current count (`UsageMeter.peekCached`).
     */
    customers: ProjectScopedCache<Customer, CountMemo>;
  };
  /** Which projects' cached records are current: one epoch read per project per `cacheTtlMs`. */
  epochs: ProjectEpochs;
  rateLimiter: RateLimiter;
  /** Password hashing, one at a time with a short line: it is CPU-bound. */
  passwords: Gate;
  payments: PaymentProvider;
  storage: ObjectStorage;
  /** Serialises this instance's stock changes per project. */
  locks: KeyedMutex;
  /** The sandbox provider when payments are offline (its pages and actions need it). */
  sandbox: SandboxProvider | null;
}

/** Builds this instance's services; caches are per instance, KV is shared. */
export async function createServices(
  deps: Required<Omit<Deps, "payments" | "storage">> & Pick<Deps, "payments" | "storage">,
  appSecret: string,
): Promise<Services> {
  const now = () => deps.clock.now();
  const ttlMs = deps.config.cacheTtlMs;
  const secretBytes = new TextEncoder().encode(`customer-token:${appSecret}`);
  const tokenKey = new Uint8Array(await crypto.subtle.digest("SHA-256", secretBytes));
  const payments = deps.payments ?? defaultProvider(deps, appSecret);
  const caches = {
    secrets: new TtlCache<SecretPointer | null>({ ttlMs, now }),
    projects: new TtlCache<Project | null>({ ttlMs, now }),
    customers: new ProjectScopedCache<Customer, CountMemo>({ max: 200_000 }),
  };
  const epochs = new ProjectEpochs({
    ttlMs,
    now,
    read: (pk) => readEpoch(deps.kv, pk),
    onChange: (pk) => {
      caches.projects.delete(pk);
      caches.customers.dropProject(pk);
      caches.secrets.deleteWhere((_, ptr) => ptr?.pk === pk);
    },
  });
  return {
    config: deps.config,
    kv: deps.kv,
    clock: deps.clock,
    logger: deps.logger,
    payments,
    locks: new KeyedMutex(),
    storage: deps.storage ??
      (deps.config.s3
        ? new S3Storage(deps.config.s3)
        : new FsStorage(`${deps.config.dataDir}/assets`)),
    sandbox: payments instanceof SandboxProvider ? payments : null,
    meter: new UsageMeter(deps.kv, now, {
      ttlMs,
      foldRows: deps.config.usageFoldRows,
      bucketAt: deps.config.usageBucketAt,
    }),
    tokenKey,
    webhookKey: await secretBoxKey(appSecret, "webhook-signing-secrets"),
    limitNotified: new Set(),
    caches,
    epochs,
    rateLimiter: new RateLimiter(now),
    passwords: new Gate(1, 32),
  };
}

/** Stripe when configured (STRIPE_SECRET_KEY_TEST), else the offline sandbox. */
function defaultProvider(
  deps: { config: Config; kv: Deno.Kv; clock: Clock },
  appSecret: string,
): PaymentProvider {
  const st = deps.config.stripe;
  if (st) {
    const api = st.apiUrl ? new URL(st.apiUrl) : null;
    return new StripeProvider({
      secretKeyTest: st.secretKeyTest,
      secretKeyLive: st.secretKeyLive,
      webhookSecrets: st.webhookSecrets,
      host: api
        ? {
          host: api.hostname,
          port: Number(api.port || (api.protocol === "https:" ? 443 : 80)),
          protocol: api.protocol === "https:" ? "https" : "http",
        }
        : undefined,
    });
  }
  return new SandboxProvider(deps.kv, () => deps.clock.now(), `whsec_sandbox_${appSecret}`);
}
