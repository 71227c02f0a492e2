/** Tiers (SaaS) and products (Store): validation and the pure edits applied to a project. */
import { z } from "zod";
import { AppError, ConflictError, NotFoundError, ValidationError } from "@/lib/errors.ts";
import type { Project, ProjectType, Tier } from "@/lib/kv/projects.ts";
import { ulid } from "@/lib/ids.ts";
import { CurrencyCode, ImageUrl } from "@/lib/schemas.ts";

export const TIER_NAME_RE = /^[a-z0-9](?:[a-z0-9_-]{0,62})$/;
export const MAX_TIERS = 50;

export const OverageSchema = z.object({
  /** Minor units billed for every `per` calls past the limit. */
  unitAmount: z.number().int().min(1).max(99_999_999),
  per: z.number().int().min(1).max(1_000_000).default(1),
  /** At most this many calls past the limit (then 429); absent: no cap. */
  cap: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
}).strict();
export type Overage = z.infer<typeof OverageSchema>;

export const TierInputSchema = z.object({
  name: z.string().regex(TIER_NAME_RE, "must be a lowercase slug (a-z, 0-9, - and _, up to 63)"),
  displayName: z.string().trim().min(1).max(100).optional(),
  price: z.number().int("must be an integer number of minor units").min(0).max(99_999_999),
  currency: CurrencyCode.optional(),
  interval: z.enum(["month", "year"]).optional(),
  limit: z.number().int().min(0).nullable().optional(),
  features: z.array(z.string().min(1).max(200)).max(50).optional(),
  popular: z.boolean().optional(),
  description: z.string().max(2000).nullable().optional(),
  imageUrl: ImageUrl.nullable().optional(),
  inventory: z.number().int().min(0).nullable().optional(),
  /** SaaS: days of free trial a checkout starts with (0 = none). */
  trialDays: z.number().int().min(0).max(730).optional(),
  /** SaaS tiers with a limit: calls past it are accepted and billed, up to `cap` calls. */
  overage: OverageSchema.nullable().optional(),
  // strict: a misspelt field would be its default, and some defaults cost money (`limt: 5` made
  // an unlimited tier), so an unknown field is 422, as Stripe refuses unknown parameters
}).strict();
export type TierInput = z.infer<typeof TierInputSchema>;

export const TierPatchSchema = TierInputSchema.partial().extend({
  /** New 0-based position in the list. */
  position: z.number().int().min(0).optional(),
  /** Hide from pricing pages and new checkouts (subscribers stay), or show again. */
  archived: z.boolean().optional(),
});
export type TierPatch = z.infer<typeof TierPatchSchema>;

function titleCase(slug: string): string {
  return slug.split(/[-_]/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join(" ");
}

type TypedFields = {
  trialDays?: number | undefined;
  overage?: Overage | null | undefined;
  inventory?: number | null | undefined;
  interval?: "month" | "year" | undefined;
  limit?: number | null | undefined;
};

function checkFitsType(type: ProjectType, t: TypedFields, field = ""): void {
  if (type === "saas" && t.inventory !== undefined && t.inventory !== null) {
    throw new ValidationError("inventory applies to Store products, not SaaS tiers", [
      { field: `${field}inventory`, message: "not allowed on a SaaS project" },
    ]);
  }
  if (type === "store") {
    for (const k of ["interval", "limit", "trialDays", "overage"] as const) {
      if (t[k] !== undefined && t[k] !== null) {
        throw new ValidationError(`${k} applies to SaaS tiers, not Store products`, [
          { field: `${field}${k}`, message: "not allowed on a Store project" },
        ]);
      }
    }
  }
}

/** Overage only makes sense past a limit: 422 on an unlimited tier with overage. */
function checkOverage(t: Tier, field = ""): Tier {
  if (t.overage && t.limit === null) {
    throw new ValidationError("overage needs a usage limit: calls past the limit are billed", [
      { field: `${field}overage`, message: "needs a limit on the tier" },
    ]);
  }
  if (t.overage && t.price === 0) {
    throw new ValidationError(
      "overage needs a paid tier: it is billed on the tier's subscription at each period's end",
      [{ field: `${field}overage`, message: "needs a paid tier" }],
    );
  }
  return t;
}

/** A project's currency: its tiers' (all the same), set by the first ones. */
export function projectCurrency(p: Pick<Project, "tiers" | "currency">): string {
  return p.currency ?? p.tiers[0]?.currency ?? "usd";
}

/** 422 unless `currency` (when given) is the project's: a project prices in one currency. */
function checkCurrency(expected: string, currency: string | undefined, field = ""): void {
  if (currency !== undefined && currency !== expected) {
    throw new ValidationError(
      `This project prices in ${expected.toUpperCase()}: every tier and product uses it`,
      [{ field: `${field}currency`, message: `must be ${expected} (the project's currency)` }],
    );
  }
}

/** A new tier from validated input, with the defaults of its project type. */
export function buildTier(type: ProjectType, input: TierInput, field = ""): Tier {
  checkFitsType(type, input, field);
  return checkOverage({
    id: `tier_${ulid()}`,
    name: input.name,
    displayName: input.displayName ?? titleCase(input.name),
    price: input.price,
    currency: input.currency ?? "usd",
    interval: type === "saas" ? input.interval ?? "month" : null,
    limit: type === "saas" ? input.limit ?? null : null,
    features: input.features ?? [],
    popular: input.popular ?? false,
    description: input.description ?? null,
    imageUrl: input.imageUrl ?? null,
    inventory: type === "store" ? input.inventory ?? null : null,
    trialDays: type === "saas" ? input.trialDays ?? 0 : 0,
    overage: type === "saas" ? input.overage ?? null : null,
    priceId: null,
    productId: null,
    priceSpec: null,
  }, field);
}

/** Builds the initial tier list, refusing duplicate names. */
export function buildTiers(type: ProjectType, inputs: TierInput[]): Tier[] {
  // a SaaS project's customers are metered by a tier; a store may open empty and add products
  if (type === "saas" && inputs.length === 0) {
    throw new ValidationError("A SaaS project needs at least one tier", [
      { field: "tiers", message: "at least one tier (a store may start with none)" },
    ]);
  }
  const seen = new Set<string>();
  const currency = inputs[0]?.currency ?? "usd";
  return inputs.map((t, i) => {
    checkCurrency(currency, t.currency, `tiers.${i}.`);
    if (seen.has(t.name)) {
      throw new ConflictError(`Cannot create tier "${t.name}": the name is taken`);
    }
    seen.add(t.name);
    return buildTier(type, t, `tiers.${i}.`);
  });
}

/** The project with one more tier; 409 when the name is taken. */
export function addTier(p: Project, input: TierInput): { project: Project; tier: Tier } {
  if (p.tiers.some((t) => t.name === input.name)) {
    throw new ConflictError(`Cannot create tier "${input.name}": the name is taken`);
  }
  if (p.tiers.length >= MAX_TIERS) {
    throw new ValidationError(`A project has at most ${MAX_TIERS} tiers`);
  }
  checkCurrency(projectCurrency(p), input.currency);
  const tier = buildTier(p.type, { ...input, currency: input.currency ?? projectCurrency(p) });
  return { project: { ...p, tiers: [...p.tiers, tier] }, tier };
}

/** The project with one tier edited (and maybe moved); keys and ids stay as they are. */
export function editTier(
  p: Project,
  name: string,
  patch: TierPatch,
): { project: Project; tier: Tier } {
  const idx = p.tiers.findIndex((t) => t.name === name);
  if (idx < 0) throw new NotFoundError(`No tier "${name}" in this project`);
  checkFitsType(p.type, patch);
  checkCurrency(projectCurrency(p), patch.currency);
  if (
    patch.name !== undefined && patch.name !== name && p.tiers.some((t) => t.name === patch.name)
  ) {
    throw new ConflictError(`Cannot rename tier "${name}" to "${patch.name}": the name is taken`);
  }
  const cur = p.tiers[idx]!;
  const { position, ...fields } = patch;
  const next: Tier = { ...cur };
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) (next as unknown as Record<string, unknown>)[k] = v;
  }
  checkOverage(next);
  const tiers = p.tiers.filter((_, i) => i !== idx);
  const at = position === undefined ? idx : Math.min(position, tiers.length);
  tiers.splice(at, 0, next);
  return { project: { ...p, tiers }, tier: next };
}

/** A tier that paying customers are on: it can be archived, not deleted. */
export class TierInUseError extends AppError {
  constructor(name: string, subscribers: number) {
    super(
      "tier_in_use",
      `Cannot delete tier "${name}": ${subscribers} active subscription${
        subscribers === 1 ? " is" : "s are"
      } on it. Archive it instead (PATCH {"archived": true}): it leaves pricing pages and new checkouts while its subscribers stay.`,
      { details: { subscribers } },
    );
  }
}

/**
 * The project without one tier; a SaaS project's last tier can't be deleted (its customers need
 * a plan to be metered against; a store may run out of products), nor one with `subscribers`
 * (active, trialing or past-due subscriptions on it).
 */
export function removeTier(
  p: Project,
  name: string,
  subscribers = 0,
): { project: Project; tier: Tier } {
  const tier = p.tiers.find((t) => t.name === name);
  if (!tier) throw new NotFoundError(`No tier "${name}" in this project`);
  if (subscribers > 0) throw new TierInUseError(name, subscribers);
  if (p.tiers.length === 1 && p.type === "saas") {
    throw new ConflictError(`Cannot delete tier "${name}": it is the SaaS project's last tier`);
  }
  return { project: { ...p, tiers: p.tiers.filter((t) => t !== tier) }, tier };
}

/**
 * A tier just created or edited, as the project is after its provider sync (`synced`), or — when
 * a concurrent change deleted it meanwhile — as the change saved it (`saved`): the change did
 * happen, the deletion came after it.
 */
export function tierAfter(saved: Project, synced: Project, id: string) {
  const tier = synced.tiers.find((t) => t.id === id);
  return tier
    ? { project: synced, tier }
    : { project: saved, tier: saved.tiers.find((t) => t.id === id)! };
}

/** The free tier of a SaaS project: the first with price 0 (an archived one only if no other). */
export function freeTier(p: Project): Tier | null {
  return p.tiers.find((t) => t.price === 0 && !t.archived) ??
    p.tiers.find((t) => t.price === 0) ?? null;
}

/** The tiers a pricing page or storefront shows and new checkouts may use: not archived. */
export function offeredTiers(p: Project): Tier[] {
  return p.tiers.filter((t) => !t.archived);
}

/** A customer's tier by its stable id, falling back to the free tier when it was deleted. */
export function tierOf(p: Project, tierId: string | null): Tier | null {
  return (tierId ? p.tiers.find((t) => t.id === tierId) : undefined) ?? freeTier(p);
}

/** The public shape of a tier (what `/api/tiers` and the developer API answer). */
export function publicTier(p: Project, t: Tier) {
  const base = {
    name: t.name,
    displayName: t.displayName,
    price: t.price,
    currency: t.currency,
    features: t.features,
    popular: t.popular,
    description: t.description,
    imageUrl: t.imageUrl,
    priceId: t.priceId,
    productId: t.productId,
    archived: t.archived ?? false,
  };
  return p.type === "saas"
    ? {
      ...base,
      interval: t.interval,
      limit: t.limit,
      trialDays: t.trialDays ?? 0,
      overage: t.overage ?? null,
    }
    : { ...base, inventory: t.inventory, soldOut: t.inventory !== null && t.inventory <= 0 };
}
