/** The developer API's project input and output shapes (never the secret hash). */
import { z } from "zod";
import type { Project } from "@/lib/kv/projects.ts";
import { MAX_TIERS, projectCurrency, publicTier, TierInputSchema } from "@/lib/catalog/tiers.ts";
import { EndUserAuthSchema } from "@/lib/projects/end_user_auth.ts";
import { CurrencyCode } from "@/lib/schemas.ts";
import { purgeAt } from "@/lib/projects/retention.ts";

export const ProjectInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  type: z.enum(["saas", "store"]),
  /** A SaaS project needs a tier to meter against; a store may open empty and add products. */
  tiers: z.array(TierInputSchema).max(MAX_TIERS).default([]),
  /** What every tier is priced in (default usd); fixed once the project exists. */
  currency: CurrencyCode.optional(),
  automaticTax: z.boolean().optional(),
}).strict(); // a misspelt `currency` would fix the project in usd for good
export type ProjectInput = z.infer<typeof ProjectInputSchema>;

export const ProjectPatchSchema = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  type: z.enum(["saas", "store"]).optional(),
  endUserAuth: EndUserAuthSchema.nullable().optional(),
  /** Read-only once set: only the project's own currency is accepted. */
  currency: CurrencyCode.optional(),
  automaticTax: z.boolean().optional(),
});

/** The shape of a project in the developer API: never the secret hash. */
export function publicProject(p: Project) {
  return {
    publishableKey: p.pk,
    name: p.name,
    type: p.type,
    mode: p.mode,
    platformId: p.platformId,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    livePublishableKey: p.livePk,
    endUserAuth: p.endUserAuth ?? null,
    currency: projectCurrency(p),
    automaticTax: p.automaticTax ?? false,
    deletedAt: p.deletedAt ?? null,
    purgeAt: purgeAt(p),
    tiers: p.tiers.map((t) => publicTier(p, t)),
  };
}

// strict: a live twin is made once (a second promote is 409), so a misspelt `tiers` must not
// quietly make it with the test tiers instead of the ones given
export const PromoteInputSchema = z.object({
  tiers: z.array(TierInputSchema).min(1).max(MAX_TIERS).optional(),
}).strict();

// strict: a misspelt `graceSeconds` (`grace_seconds`) would otherwise be the default, 0, and end
// the key still in use at once (Stripe refuses unknown parameters too)
export const RotateInputSchema = z.object({
  graceSeconds: z.number().int().min(0).max(7 * 86_400).optional(),
}).strict();
