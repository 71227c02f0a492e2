/** Projects: the publishable key is the id; tiers live inside the project record. */
import { KeyedMutex } from "@/lib/mutex.ts";
import { RETRY, retryAtomic, updateChecked } from "@/lib/kv/_atomic.ts";
import { bumpEpoch, projectEpochKeys } from "@/lib/kv/project_epochs.ts";
import { NotFoundError } from "@/lib/errors.ts";
import type { Mode } from "@/lib/ids.ts";

export type ProjectType = "saas" | "store";

/**
 * One thing a project sells: a subscription tier of a SaaS project, or a product of a Store
 * project (the contract's "tier / product object"). `Tier` and `Product` name the same record
 * from each side.
 */
export interface CatalogItem {
  /** Stable internal id: customers point at it, so renames keep their plan. */
  id: string;
  name: string;
  displayName: string;
  price: number;
  currency: string;
  /** SaaS billing interval; null for Store products. */
  interval: "month" | "year" | null;
  /** SaaS usage limit per period; null = unlimited. */
  limit: number | null;
  features: string[];
  popular: boolean;
  description: string | null;
  imageUrl: string | null;
  /** Store stock; null = unlimited. */
  inventory: number | null;
  priceId: string | null;
  productId: string | null;
  /** "amount:currency:interval" of `priceId`; a differing tier needs a new price. */
  priceSpec: string | null;
  /** Hidden from pricing pages and new checkouts; its subscribers stay on it. */
  archived?: boolean;
  /** SaaS: free trial days at checkout (absent or 0: none). */
  trialDays?: number;
  /** SaaS with a limit: calls past it accepted and billed per `per`, up to `cap` (null: none). */
  overage?: { unitAmount: number; per: number; cap?: number | null | undefined } | null;
  /** Earlier prices of this tier (replaced by a price change): subscribers may still pay them. */
  priceHistory?: { priceId: string; amount: number; currency: string; interval: string | null }[];
  /** The metered price billing the overage, and "amount:per:currency:interval" it was made for. */
  overagePriceId?: string | null;
  overageSpec?: string | null;
}

/** A SaaS project's subscription tier. */
export type Tier = CatalogItem;
/** A Store project's product. */
export type Product = CatalogItem;

export interface Project {
  pk: string;
  platformId: string;
  name: string;
  type: ProjectType;
  mode: Mode;
  /** SHA-256 of the current secret key; the key itself is never stored. */
  secretHash: string;
  /** The current key's first characters (`sk_test_AbCd`), to recognise it; absent on old records. */
  secretPrefix?: string;
  /** When the current secret key was made (absent on old records: the project's creation). */
  keyCreatedAt?: string;
  /** Earlier secret keys still in their grace period (their pointers expire with them). */
  graceKeys?: GraceKey[];
  tiers: CatalogItem[];
  /** ULID used to list a developer's projects in creation order. */
  listId: string;
  createdAt: string;
  updatedAt: string;
  /** For a test project: its promoted live twin. */
  livePk: string | null;
  /** End-user sign-in: Clerk session tokens accepted as customer tokens (absent: off). */
  endUserAuth?: EndUserAuth | null;
  /** Outbound webhook endpoints (a handful; their deliveries live in lib/kv/webhook_outbox.ts). */
  webhooks?: WebhookEndpoint[];
  /** Promotion codes customers can use at checkout (a handful; counted in lib/kv/coupons.ts). */
  coupons?: Coupon[];
  /** What every tier is priced in, chosen at creation (absent on old records: the tiers'). */
  currency?: string;
  /** The provider's meter of the project's overage (one per project, made with its first). */
  overageMeterId?: string | null;
  /** Stripe Tax at checkout (automatic_tax, with the buyer's address). */
  automaticTax?: boolean;
  /** When the developer deleted it: its keys stop at once, its data stays 30 days for undo. */
  deletedAt?: string;
}

/** Where a project's events are sent, and the (sealed) secrets that sign them. */
export interface WebhookEndpoint {
  id: string;
  url: string;
  /** Event types sent; null: all of them. */
  events: string[] | null;
  createdAt: string;
  /** Sealed `whsec_…` secrets, newest first; an older one signs too until it expires. */
  secrets: { sealed: string; createdAt: string; expiresAt: number | null }[];
  /** Since when every attempt has failed (ms epoch), or null. */
  failingSince: number | null;
  /** Disabled after failing for 3 days (ISO), or null. */
  disabledAt: string | null;
}

/** A promotion code and its coupon, synced to the payment provider on creation. */
export interface Coupon {
  code: string;
  percentOff: number | null;
  /** Minor units off, in the project's currency. */
  amountOff: number | null;
  duration: "once" | "forever" | "repeating";
  durationInMonths: number | null;
  maxRedemptions: number | null;
  /** ISO time after which the code is refused. */
  expiresAt: string | null;
  createdAt: string;
  providerCouponId: string | null;
  providerPromotionCodeId: string | null;
}

/** Clerk session tokens of the developer's own app, verified offline with its PEM public key. */
export interface EndUserAuth {
  jwtKey: string;
  issuer?: string;
  authorizedParties?: string[];
}

export interface GraceKey {
  hash: string;
  prefix: string | null;
  /** When it stops working (ms epoch). */
  expiresAt: number;
}

/** At most this many earlier keys stay in grace; a further rotation ends the oldest at once. */
export const MAX_GRACE_KEYS = 10;

export interface SecretPointer {
  pk: string;
  /** When a rotated-out key stops working (ms epoch); null for the current key. */
  expiresAt: number | null;
}

export const projectKeys = {
  byPk: (pk: string) => ["projects", pk] as const,
  all: () => ["projects"] as const,
  byPlatform: (platformId: string, listId: string) =>
    ["projects_by_platform", platformId, listId] as const,
  listByPlatform: (platformId: string) => ["projects_by_platform", platformId] as const,
  bySecret: (hash: string) => ["projects_by_secret", hash] as const,
};

/** Creates a project with its platform and secret-key indexes in one atomic commit. */
export async function createProject(kv: Deno.Kv, p: Project): Promise<Project> {
  const res = await kv.atomic()
    .check({ key: projectKeys.byPk(p.pk), versionstamp: null })
    .check({ key: projectKeys.bySecret(p.secretHash), versionstamp: null })
    .set(projectKeys.byPk(p.pk), p)
    .set(projectKeys.byPlatform(p.platformId, p.listId), p.pk)
    .set(projectKeys.bySecret(p.secretHash), { pk: p.pk, expiresAt: null } satisfies SecretPointer)
    .commit();
  if (!res.ok) throw new Error("project key collision");
  return p;
}

export async function getProject(kv: Deno.Kv, pk: string): Promise<Project | null> {
  return (await kv.get<Project>(projectKeys.byPk(pk))).value;
}

/** The pointer for a secret-key hash, or null when unknown or past its grace period. */
export async function getSecretPointer(
  kv: Deno.Kv,
  hash: string,
  now: number,
): Promise<SecretPointer | null> {
  const v = (await kv.get<SecretPointer>(projectKeys.bySecret(hash))).value;
  if (!v || (v.expiresAt !== null && v.expiresAt <= now)) return null;
  return v;
}

/** Every project on this store, one at a time (operations only: reconcile, backups). */
export async function* everyProject(kv: Deno.Kv): AsyncGenerator<Project> {
  for await (const e of kv.list<Project>({ prefix: projectKeys.all() })) yield e.value;
}

/** A developer's projects in creation order. */
export async function listProjects(kv: Deno.Kv, platformId: string): Promise<Project[]> {
  const pks: string[] = [];
  for await (const e of kv.list<string>({ prefix: projectKeys.listByPlatform(platformId) })) {
    pks.push(e.value);
  }
  const out: Project[] = [];
  for (let i = 0; i < pks.length; i += 10) {
    const got = await kv.getMany<Project[]>(pks.slice(i, i + 10).map(projectKeys.byPk));
    for (const g of got) if (g.value) out.push(g.value);
  }
  return out;
}

/**
 * Read-modify-write of a project checked on its versionstamp. `change` may throw a domain
 * error to refuse the change; nothing is written then.
 */
export async function updateProject(
  kv: Deno.Kv,
  pk: string,
  change: (p: Project) => Project,
): Promise<Project> {
  return (await updateProjectWith(kv, pk, (p) => ({ next: change(p), result: null }))).project;
}

// a project's record changes one after another within this instance: many at once (a script
// adding tiers, codes or endpoints in parallel) would otherwise lose most of their checked
// commits to each other and answer 409; across instances the versionstamp check still decides
const projectWrites = new KeyedMutex();

/**
 * `updateProject` whose change also answers a result (the tier it made, removed …). With a
 * `guard` (a key named from the project), the change is also decided on that entry, read in the
 * same attempt and checked in the same commit: a tier's deletion decided on its count of paying
 * subscribers fails when a subscription is applied in between, and the next attempt sees it.
 */
export function updateProjectWith<R>(
  kv: Deno.Kv,
  pk: string,
  change: (p: Project, guarded: unknown) => { next: Project; result: R },
  guard?: (p: Project) => Deno.KvKey | null,
): Promise<{ project: Project; result: R }> {
  return projectWrites.run(
    pk,
    () =>
      updateChecked<Project, { project: Project; result: R }>(kv, projectKeys.byPk(pk), {
        what: "update the project",
        also: (op) => bumpEpoch(op, pk),
        guard: guard && ((cur) => cur ? guard(cur) : null),
        change: (cur, guarded) => {
          if (!cur) throw new NotFoundError(`No project ${pk}`);
          const r = change(cur, guarded);
          return { next: r.next, result: { project: r.next, result: r.result } };
        },
      }),
  );
}

/**
 * Replaces a project's secret key in one checked commit: the project, the new pointer, and the
 * earlier keys. The key that was current joins the grace list until `oldExpiresAt`; when that
 * is now or earlier, every earlier key (the current one and all still in grace) ends at once.
 * Keys past their grace, and the oldest beyond `MAX_GRACE_KEYS`, are removed. Returns the
 * hashes that stopped working.
 */
export function rotateSecret(
  kv: Deno.Kv,
  pk: string,
  o: {
    next: { hash: string; prefix: string };
    now: number;
    oldExpiresAt: number;
    updatedAt: string;
  },
): Promise<{ project: Project; ended: string[] }> {
  const next = o.next;
  return retryAtomic("rotate the key", async () => {
    const cur = await kv.get<Project>(projectKeys.byPk(pk));
    if (!cur.value) throw new NotFoundError(`No project ${pk}`);
    const p = cur.value;
    const earlier: GraceKey[] = [
      ...(p.graceKeys ?? []),
      { hash: p.secretHash, prefix: p.secretPrefix ?? null, expiresAt: o.oldExpiresAt },
    ];
    const keep = o.oldExpiresAt <= o.now
      ? []
      : earlier.filter((g) => g.expiresAt > o.now).slice(-MAX_GRACE_KEYS);
    const ended = earlier.filter((g) => !keep.includes(g)).map((g) => g.hash);
    const project: Project = {
      ...p,
      secretHash: next.hash,
      secretPrefix: next.prefix,
      keyCreatedAt: o.updatedAt,
      graceKeys: keep,
      updatedAt: o.updatedAt,
    };
    let op = kv.atomic().check(cur)
      .check({ key: projectKeys.bySecret(next.hash), versionstamp: null })
      .set(cur.key, project)
      .set(projectKeys.bySecret(next.hash), { pk, expiresAt: null } satisfies SecretPointer)
      .sum(projectEpochKeys.byPk(pk), 1n);
    for (const hash of ended) op = op.delete(projectKeys.bySecret(hash));
    for (const g of keep) {
      op = op.set(
        projectKeys.bySecret(g.hash),
        { pk, expiresAt: g.expiresAt } satisfies SecretPointer,
        { expireIn: g.expiresAt - o.now + 60_000 },
      );
    }
    const res = await op.commit();
    return res.ok ? { project, ended } : RETRY;
  });
}
