/** Projects and their keys: creation, lookup by key (cached), ownership, rename, tier edits. */
import { z } from "zod";
import type { Services } from "@/lib/services.ts";
import { sha256Hex, sha256HexSync } from "@/lib/crypto.ts";
import { type Mode, newPublishableKey, newSecretKey, PK_RE, SK_RE, ulid } from "@/lib/ids.ts";
import {
  createProject as kvCreateProject,
  getProject,
  getSecretPointer,
  listProjects as kvListProjects,
  type Project,
  type ProjectType,
  rotateSecret,
  updateProject,
  updateProjectWith,
} from "@/lib/kv/projects.ts";
import {
  addTier,
  buildTiers,
  editTier,
  projectCurrency,
  removeTier,
  tierAfter,
  type TierInput,
  type TierPatch,
} from "@/lib/catalog/tiers.ts";
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from "@/lib/errors.ts";
import { getDeveloper } from "@/lib/kv/developers.ts";
import { tierPayersKey } from "@/lib/kv/project_stats.ts";
import { requirePlatformPlan } from "@/lib/billing/platform.ts";
import { archiveTierProduct, syncCatalog } from "@/lib/catalog/sync.ts";
import { expireCheckoutsOf } from "@/lib/payments/expire_checkout.ts";
import { endUserAuthSetting } from "@/lib/projects/end_user_auth.ts";
import type { ProjectPatchSchema, PromoteInputSchema } from "@/lib/projects/shape.ts";

export {
  type ProjectInput,
  ProjectInputSchema,
  ProjectPatchSchema,
  PromoteInputSchema,
  publicProject,
  RotateInputSchema,
} from "@/lib/projects/shape.ts";

/**
 * Pushes tiers to the payment provider after they were saved. Not being connected yet (Stripe)
 * is fine: checkout syncs on first need and connecting syncs all. Provider failures are logged
 * and retried the same way, so a tier edit never fails because Stripe is away.
 */
async function trySync(s: Services, p: Project, only?: string[]): Promise<Project> {
  try {
    return await syncCatalog(s, p, only);
  } catch (err) {
    if (!(err instanceof AppError && err.code === "conflict")) {
      s.logger.warn("catalog sync failed; will retry at checkout", {
        pk: p.pk,
        error: String(err),
      });
    }
    return p;
  }
}

function remember(s: Services, p: Project): Project {
  s.caches.projects.set(p.pk, p);
  return p;
}

/** Creates a project in `mode` with its tiers; the secret key is returned once, stored hashed. */
export async function createProject(
  s: Services,
  platformId: string,
  input: {
    name: string;
    type: ProjectType;
    tiers: TierInput[];
    mode?: Mode;
    pk?: string;
    currency?: string | undefined;
    automaticTax?: boolean | undefined;
  },
) {
  const mode = input.mode ?? "test";
  const pk = input.pk ?? newPublishableKey(mode);
  const currency = input.currency ?? input.tiers[0]?.currency ?? "usd";
  const tiers = buildTiers(
    input.type,
    input.tiers.map((t) => ({ ...t, currency: t.currency ?? currency })),
  );
  const secretKey = newSecretKey(mode);
  const nowIso = new Date(s.clock.now()).toISOString();
  const project = await kvCreateProject(s.kv, {
    pk,
    platformId,
    name: input.name,
    type: input.type,
    mode,
    secretHash: await sha256Hex(secretKey),
    secretPrefix: secretPrefix(secretKey),
    graceKeys: [],
    tiers,
    currency,
    ...(input.automaticTax ? { automaticTax: true } : {}),
    listId: ulid(s.clock.now()),
    createdAt: nowIso,
    updatedAt: nowIso,
    livePk: null,
  });
  remember(s, project);
  return { project: await trySync(s, project), secretKey };
}

export function listProjects(s: Services, platformId: string): Promise<Project[]> {
  return kvListProjects(s.kv, platformId);
}

/** A project by publishable key through this instance's cache (a miss reads KV once). */
export async function projectByPk(s: Services, pk: string): Promise<Project | null> {
  if (!PK_RE.test(pk)) return null;
  await s.epochs.ensure(pk);
  const cached = s.caches.projects.get(pk);
  if (cached !== undefined) return cached?.deletedAt ? null : cached;
  const mark = s.caches.projects.mark();
  const p = await getProject(s.kv, pk);
  s.caches.projects.fill(pk, p, mark); // not over a change made while it was read
  return p?.deletedAt ? null : p;
}

/**
 * The project a secret key belongs to. The key is hashed and looked up through the cache, so a
 * known key costs no KV read; a revoked or rotated-out key stops working here within
 * `cacheTtlMs` (at once in the instance that revoked it).
 */
export async function projectBySecretKey(s: Services, sk: string): Promise<Project> {
  if (!SK_RE.test(sk)) throw new UnauthenticatedError("Malformed secret key", "invalid_api_key");
  const hash = sha256HexSync(sk);
  // a pointer read is cached only if no rotation or revocation came while it was read
  const lookUp = async () => {
    const mark = s.caches.secrets.mark();
    const read = await getSecretPointer(s.kv, hash, s.clock.now());
    s.caches.secrets.fill(hash, read, mark);
    return read;
  };
  let ptr = s.caches.secrets.get(hash);
  if (ptr === undefined) ptr = await lookUp();
  if (ptr && !s.epochs.fresh(ptr.pk)) {
    // the project changed elsewhere (a rotation?): confirm it, then look the key up again
    await s.epochs.ensure(ptr.pk);
    if (s.caches.secrets.get(hash) === undefined) ptr = await lookUp();
  }
  if (!ptr || (ptr.expiresAt !== null && ptr.expiresAt <= s.clock.now())) {
    throw new UnauthenticatedError("Unknown or revoked secret key", "invalid_api_key");
  }
  const p = await projectByPk(s, ptr.pk);
  if (!p) throw new UnauthenticatedError("Unknown or revoked secret key", "invalid_api_key");
  return p;
}

/** A project named by its developer: who asks (`platformId`) and which project (`pk`). */
export interface ProjectRef {
  platformId: string;
  pk: string;
}

/** A project of this developer: 404 when unknown, 403 when it belongs to someone else. */
export async function ownedProject(s: Services, platformId: string, pk: string): Promise<Project> {
  const p = PK_RE.test(pk) ? await getProject(s.kv, pk) : null;
  if (!p) throw new NotFoundError(`No project ${pk}`);
  if (p.platformId !== platformId) {
    throw new ForbiddenError("This project belongs to another account");
  }
  return p;
}

/**
 * A checked change of one owned project: `fn` answers the next project and a result (or
 * throws to refuse); `updatedAt` is set, the cache refreshed.
 */
async function change<R>(
  s: Services,
  ref: ProjectRef,
  fn: (p: Project, guarded: unknown) => { next: Project; result: R },
  guard?: (p: Project) => Deno.KvKey | null,
): Promise<{ project: Project; result: R }> {
  await ownedProject(s, ref.platformId, ref.pk);
  const out = await updateProjectWith(s.kv, ref.pk, (p, guarded) => {
    if (p.deletedAt) {
      throw new ConflictError("This project is deleted: restore it first");
    }
    const r = fn(p, guarded);
    return {
      next: { ...r.next, updatedAt: new Date(s.clock.now()).toISOString() },
      result: r.result,
    };
  }, guard);
  return { project: remember(s, out.project), result: out.result };
}

/** Renames a project; the type is locked forever. */
export async function renameProject(
  s: Services,
  ref: ProjectRef,
  patch: z.infer<typeof ProjectPatchSchema>,
) {
  const auth = patch.endUserAuth === undefined
    ? undefined
    : await endUserAuthSetting(patch.endUserAuth);
  const { project } = await change(s, ref, (p) => {
    if (patch.type !== undefined && patch.type !== p.type) {
      throw new ForbiddenError(`A project's type is locked: this one is "${p.type}" forever`);
    }
    if (patch.currency !== undefined && patch.currency !== projectCurrency(p)) {
      throw new ValidationError(
        `A project's currency is fixed: this one prices in ${projectCurrency(p).toUpperCase()}`,
        [{ field: "currency", message: "can't be changed" }],
      );
    }
    const next = { ...p, name: patch.name ?? p.name };
    if (patch.automaticTax !== undefined) next.automaticTax = patch.automaticTax;
    if (auth !== undefined) next.endUserAuth = auth;
    return { next, result: null };
  });
  return project;
}

/** Adds a tier or product; keys unchanged. */
export async function createTier(s: Services, ref: ProjectRef, input: TierInput) {
  const saved = await change(s, ref, (p) => {
    const r = addTier(p, input);
    return { next: r.project, result: r.tier.id };
  });
  return tierAfter(saved.project, await trySync(s, saved.project, [saved.result]), saved.result);
}

/** Edits a tier or product (price, limit, features, order …); keys unchanged. */
export async function updateTier(
  s: Services,
  ref: ProjectRef & { name: string },
  patch: TierPatch,
) {
  const saved = await change(s, ref, (p) => {
    const r = editTier(p, ref.name, patch);
    return { next: r.project, result: r.tier.id };
  });
  return tierAfter(saved.project, await trySync(s, saved.project, [saved.result]), saved.result);
}

/**
 * Deletes a tier or product (never the last one, never one with paying subscribers: 409
 * `tier_in_use`, archive it instead); customers on a free tier fall back to the free tier.
 */
export async function deleteTier(s: Services, ref: ProjectRef & { name: string }) {
  // decided on the tier's paying subscribers as read in the commit's own attempt
  const { project, result: removed } = await change(s, ref, (p, payers) => {
    const r = removeTier(p, ref.name, typeof payers === "number" ? payers : 0);
    return { next: r.project, result: r.tier };
  }, (p) => tierPayersKey(p, ref.name));
  try {
    await archiveTierProduct(s, project, removed);
  } catch (err) {
    s.logger.warn("archiving the product failed", { pk: ref.pk, error: String(err) });
  }
  await expireCheckoutsOf(s, project, removed.id); // its open checkouts can no longer be paid
  return project;
}

/** Requires the project to be of `type`, naming the project's type otherwise. */
export function requireType(p: Project, type: ProjectType): void {
  if (p.type !== type) {
    const what = type === "saas" ? "SaaS" : "Store";
    throw new ForbiddenError(
      `This endpoint is for ${what} projects; this project is a ${
        p.type === "saas" ? "SaaS" : "Store"
      } project`,
    );
  }
}

/**
 * Creates the live twin of a test project, with the test tiers or the edited ones given, and
 * new live keys (secret shown once). One live twin per project: a second promote is 409. When
 * the operator prices a platform plan, it must be active.
 */
export async function promoteProject(
  s: Services,
  ref: ProjectRef,
  input: z.infer<typeof PromoteInputSchema>,
) {
  const { platformId, pk } = ref;
  const test = await ownedProject(s, platformId, pk);
  if (test.mode !== "test") throw new ConflictError("This project is already live");
  if (test.livePk) {
    throw new ConflictError(`Project ${pk} is already promoted: its live twin is ${test.livePk}`);
  }
  const dev = await getDeveloper(s.kv, platformId);
  if (!dev) throw new NotFoundError("No developer");
  requirePlatformPlan(s, dev);
  const tiers: TierInput[] = input.tiers ?? test.tiers.map((t) => ({
    name: t.name,
    displayName: t.displayName,
    price: t.price,
    currency: t.currency,
    ...(t.interval ? { interval: t.interval } : {}),
    ...(test.type === "saas"
      ? { limit: t.limit, trialDays: t.trialDays ?? 0, overage: t.overage ?? null }
      : { inventory: t.inventory }),
    features: t.features,
    popular: t.popular,
    description: t.description,
    imageUrl: t.imageUrl,
  }));
  // the live twin prices in the test project's currency
  const currency = projectCurrency(test);
  buildTiers(test.type, tiers.map((t) => ({ ...t, currency: t.currency ?? currency }))); // validate first
  const livePk = newPublishableKey("live");
  // reserve the twin on the test project first, so two concurrent promotes can't both win
  await updateProject(s.kv, pk, (p) => {
    if (p.livePk) {
      throw new ConflictError(`Project ${pk} is already promoted: its live twin is ${p.livePk}`);
    }
    return { ...p, livePk };
  });
  try {
    const out = await createProject(s, platformId, {
      name: test.name,
      type: test.type,
      tiers,
      mode: "live",
      pk: livePk,
      currency,
      automaticTax: test.automaticTax,
    });
    s.caches.projects.delete(pk);
    return out;
  } catch (err) {
    await updateProject(s.kv, pk, (p) => ({ ...p, livePk: null }));
    throw err;
  }
}

/**
 * Issues a new secret key (shown once). The old key keeps working for `graceSeconds` (default
 * 0: at once) — in this instance immediately, in others within `cacheTtlMs`.
 */
export async function rotateKey(
  s: Services,
  ref: ProjectRef,
  o: { graceSeconds?: number | undefined } = {},
) {
  const { pk } = ref;
  const graceSeconds = o.graceSeconds ?? 0;
  const p = await ownedProject(s, ref.platformId, pk);
  const secretKey = newSecretKey(p.mode);
  const now = s.clock.now();
  const oldExpiresAt = now + graceSeconds * 1000;
  const { project, ended } = await rotateSecret(s.kv, pk, {
    next: { hash: await sha256Hex(secretKey), prefix: secretPrefix(secretKey) },
    now,
    oldExpiresAt,
    updatedAt: new Date(now).toISOString(),
  });
  // this instance forgets ended keys at once; another one within `cacheTtlMs`
  for (const hash of ended) s.caches.secrets.delete(hash);
  if (graceSeconds > 0) s.caches.secrets.delete(p.secretHash);
  remember(s, project);
  return { project, secretKey, oldKeyExpiresAt: new Date(oldExpiresAt).toISOString() };
}

/** The first characters of a secret key: enough to recognise it, far too few to use it. */
export function secretPrefix(secretKey: string): string {
  return secretKey.slice(0, secretKey.indexOf("_", 3) + 5);
}

/** The project's secret keys that work now: the current one and those still in grace. */
export async function listKeys(s: Services, ref: ProjectRef) {
  return keyList(await ownedProject(s, ref.platformId, ref.pk), s.clock.now());
}

/** The keys of a project that work at `now`, by prefix (never a hash or a key). */
export function keyList(p: Project, now: number) {
  return {
    current: { prefix: p.secretPrefix ?? null, createdAt: p.keyCreatedAt ?? p.createdAt },
    previous: (p.graceKeys ?? []).filter((g) => g.expiresAt > now).map((g) => ({
      prefix: g.prefix,
      expiresAt: new Date(g.expiresAt).toISOString(),
    })),
  };
}
