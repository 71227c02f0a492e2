/** The injected dependencies and the per-app services built on them. */
import type { Config } from "@/lib/config.ts";
import type { Logger } from "@/lib/logger.ts";
import { TtlCache } from "@/lib/cache.ts";
import { UsageMeter } from "@/lib/usage/meter.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import type { Project, SecretPointer } from "@/lib/kv/projects.ts";
import { RateLimiter } from "@/lib/rate_limit.ts";

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
  caches: {
    /** secret-key hash → pointer; a rotated or revoked key is seen here within `cacheTtlMs`. */
    secrets: TtlCache<SecretPointer | null>;
    projects: TtlCache<Project | null>;
    customers: TtlCache<Customer | null>;
  };
  rateLimiter: RateLimiter;
}

/** Builds this instance's services; caches are per instance, KV is shared. */
export async function createServices(
  deps: Required<Deps>,
  appSecret: string,
): Promise<Services> {
  const now = () => deps.clock.now();
  const ttlMs = deps.config.cacheTtlMs;
  const secretBytes = new TextEncoder().encode(`customer-token:${appSecret}`);
  const tokenKey = new Uint8Array(await crypto.subtle.digest("SHA-256", secretBytes));
  return {
    ...deps,
    meter: new UsageMeter(deps.kv, now),
    tokenKey,
    caches: {
      secrets: new TtlCache({ ttlMs, now }),
      projects: new TtlCache({ ttlMs, now }),
      customers: new TtlCache({ ttlMs, now, max: 200_000 }),
    },
    rateLimiter: new RateLimiter(now),
  };
}
