/** Tracking usage for one customer: plan → limit → meter; the domain side of POST /api/data. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import { planOf } from "@/lib/customers/customers.ts";
import { sha256Hex } from "@/lib/crypto.ts";
import { AppError, ConflictError } from "@/lib/errors.ts";
import type { IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import type { UsageView } from "@/lib/usage/meter.ts";

export class TierLimitError extends AppError {
  constructor(usage: UsageView) {
    super(
      "tier_limit_reached",
      `Usage limit of plan "${usage.plan}" reached (${usage.count} of ${usage.limit} this period)`,
      { details: { usage } },
    );
  }
}

export const IDEMPOTENCY_KEY_RE = /^[\x21-\x7e]{1,255}$/;

/**
 * Counts `quantity` for the customer, or throws `TierLimitError` counting nothing. With an
 * idempotency key, a retry with the same customer and body answers the first result and
 * counts once; the same key with another customer or body is a `ConflictError`.
 */
export async function trackUsage(
  s: Services,
  project: Project,
  customer: Customer,
  opts: { quantity: number; idempotencyKey?: string; rawBody: string },
): Promise<{ usage: UsageView; replayed: false } | { replayed: true; record: IdempotencyRecord }> {
  const { plan, limit, period } = planOf(s, project, customer);
  const outcome = await s.meter.track({
    pk: project.pk,
    customerId: customer.id,
    plan: plan ?? "",
    period,
    limit,
    quantity: opts.quantity,
    ...(opts.idempotencyKey
      ? {
        idempotency: {
          key: opts.idempotencyKey,
          fingerprint: await sha256Hex(`POST /api/data\n${customer.id}\n${opts.rawBody}`),
        },
      }
      : {}),
  });
  switch (outcome.kind) {
    case "counted":
      return { usage: outcome.usage, replayed: false };
    case "limited":
      throw new TierLimitError(outcome.usage);
    case "replayed":
      return { replayed: true, record: outcome.record };
    case "idempotency_conflict":
      throw new ConflictError(
        "This Idempotency-Key was already used with another request; use a new key for a new request",
      );
  }
}
