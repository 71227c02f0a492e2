/** Tracking usage for one customer: plan → limit → meter; the domain side of POST /api/data. */
import { webhookEvents } from "@/lib/outbound/events.ts";
import { wants } from "@/lib/outbound/endpoints.ts";
import { claimLimitReached } from "@/lib/kv/webhook_outbox.ts";
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import { planOf } from "@/lib/usage/plan.ts";
import { sha256Hex } from "@/lib/crypto.ts";
import { AppError, ConflictError } from "@/lib/errors.ts";
import type { IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import type { TrackOutcome, TrackRequest, UsageView } from "@/lib/usage/meter.ts";

/** Why a call of `quantity` was refused, said the same way by every path that refuses it. */
export function tierLimitMessage(usage: UsageView, quantity = 1): string {
  const used = `${usage.count} of ${usage.limit} used this period${
    usage.overage ? `, ${usage.overage} past it as overage` : ""
  }`;
  return usage.limit !== null && usage.count < usage.limit && !usage.overage
    ? `This request of ${quantity} would pass the usage limit of plan "${usage.plan}" (${used}); nothing was counted`
    : `Usage limit of plan "${usage.plan}" reached (${used})`;
}

export class TierLimitError extends AppError {
  constructor(usage: UsageView, quantity = 1) {
    super("tier_limit_reached", tierLimitMessage(usage, quantity), { details: { usage } });
  }
}

/**
 * `usage.limit_reached`, the first refusal of a period per customer: written once (a checked
 * claim), and remembered here so later refusals cost nothing, not even a read (a claim the
 * store failed is forgotten again, for the next refusal to make). Nothing at all
 * (not even a promise) when no endpoint of the project takes the event.
 */
function limitReached(
  s: Services,
  project: Project,
  o: { customerId: string; usage: UsageView },
): Promise<unknown> | undefined {
  if (!wants(project, "usage.limit_reached")) return;
  const memo = `${project.pk}\u0000${o.customerId}\u0000${o.usage.periodStart}`;
  if (s.limitNotified.has(memo)) return;
  const events = webhookEvents(project, "usage.limit_reached", {
    object: o.usage,
    version: s.clock.now(),
  });
  if (s.limitNotified.size > 100_000) s.limitNotified.clear();
  s.limitNotified.add(memo);
  return claimLimitReached(s.kv, project.pk, {
    customerId: o.customerId,
    periodStart: o.usage.periodStart,
    event: events[0]!,
    now: s.clock.now(),
  }).catch((err) => {
    // the refusal stands (a 429, not a failure of it); the next refusal claims the event again
    s.limitNotified.delete(memo);
    s.logger.warn("usage.limit_reached not recorded; the next refusal tries again", {
      pk: project.pk,
      customerId: o.customerId,
      error: String(err),
    });
  });
}

/** The bounds of `quantity` on POST /api/data (the hot path and the route share them). */
export const QUANTITY_MIN = 1;
export const QUANTITY_MAX = 1_000_000;

export const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

/** What tracking answers: counted, the first answer replayed, or refused at the limit. */
export type TrackResult =
  | { kind: "counted"; usage: UsageView }
  | { kind: "replayed"; record: IdempotencyRecord }
  | { kind: "limited"; usage: UsageView; quantity: number };

/**
 * Counts `quantity` for the customer, or refuses it at the limit counting nothing (answered, not
 * thrown: the hot path refuses thousands a second). With an idempotency key, a retry with the
 * same customer and body answers the first result and counts once; the same key with another
 * customer or body is a `ConflictError`. Without a key (the hot path's case) it is one promise on
 * the meter's, not an async function's awaits.
 */
export function tryTrackUsage(
  s: Services,
  project: Project,
  opts: { customer: Customer; quantity: number; idempotencyKey?: string },
): Promise<TrackResult> {
  if (opts.idempotencyKey) return trackKeyed(s, project, { ...opts, key: opts.idempotencyKey });
  return Promise.resolve(tryTrackUsageNow(s, project, opts)); // a promise as it is
}

/**
 * `tryTrackUsage()` without an idempotency key, answering synchronously what needs no wait: a
 * refusal the counts held already decide (`UsageMeter.trackNow`) whose `usage.limit_reached` is
 * written already or not wanted. Everything else is a promise, as from `tryTrackUsage()`.
 */
export function tryTrackUsageNow(
  s: Services,
  project: Project,
  opts: { customer: Customer; quantity: number },
): TrackResult | Promise<TrackResult> {
  const out = s.meter.trackNow(trackRequest(s, project, opts, undefined));
  return out instanceof Promise
    ? out.then((outcome) => resultOf(s, project, opts, outcome))
    : resultOf(s, project, opts, out);
}

async function trackKeyed(
  s: Services,
  project: Project,
  opts: { customer: Customer; quantity: number; key: string },
): Promise<TrackResult> {
  // what the request means, not how its JSON was spelled: a retry that writes the same body
  // with other spacing, key order or no body for the default quantity is the same request
  const fingerprint = await sha256Hex(`POST /api/data\n${opts.customer.id}\n${opts.quantity}`);
  const idempotency = { key: opts.key, fingerprint };
  return resultOf(
    s,
    project,
    opts,
    await s.meter.track(trackRequest(s, project, opts, idempotency)),
  );
}

/** What the meter is asked: every field written, in one order (one shape, whatever the tier). */
function trackRequest(
  s: Services,
  project: Project,
  opts: { customer: Customer; quantity: number },
  idempotency: TrackRequest["idempotency"],
): TrackRequest {
  const { plan, limit, period, tier, overage } = planOf(s, project, opts.customer);
  return {
    pk: project.pk,
    customerId: opts.customer.id,
    plan: plan ?? "",
    period,
    limit,
    overage,
    overageCap: overage ? tier!.overage!.cap ?? null : null,
    quantity: opts.quantity,
    idempotency,
  };
}

/**
 * The meter's outcome as tracking answers it (a counted or replayed outcome is the answer
 * itself); the first refusal of a period writes `usage.limit_reached` first.
 */
function resultOf(
  s: Services,
  project: Project,
  opts: { customer: Customer; quantity: number },
  outcome: TrackOutcome,
): TrackResult | Promise<TrackResult> {
  switch (outcome.kind) {
    case "counted":
    case "replayed":
      return outcome;
    case "limited": {
      const result = { kind: "limited" as const, usage: outcome.usage, quantity: opts.quantity };
      const claim = limitReached(s, project, {
        customerId: opts.customer.id,
        usage: outcome.usage,
      });
      return claim ? claim.then(() => result) : result;
    }
    case "idempotency_conflict":
      throw new ConflictError(
        "This Idempotency-Key was already used with another request; use a new key for a new request",
      );
  }
}

/** `tryTrackUsage`, with a refusal thrown as `TierLimitError` (the routes' way). */
export async function trackUsage(
  s: Services,
  project: Project,
  opts: { customer: Customer; quantity: number; idempotencyKey?: string },
): Promise<Exclude<TrackResult, { kind: "limited" }>> {
  const res = await tryTrackUsage(s, project, opts);
  if (res.kind === "limited") throw new TierLimitError(res.usage, res.quantity);
  return res;
}
