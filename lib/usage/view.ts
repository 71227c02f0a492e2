/** The usage object the API answers, and its JSON written fast for the hot path. */
import type { Period } from "@/lib/period.ts";

export interface UsageView {
  /** the customer (the original dream-api SDK reads it as `userId`) */
  userId: string;
  count: number;
  /** equal to `count`: the original dream-api SDK's name for it */
  usageCount: number;
  limit: number | null;
  remaining: number | null;
  /** Calls past the limit this period, billed at period end (tiers with overage; else 0). */
  overage: number;
  plan: string;
  periodStart: string;
  periodEnd: string;
}

/** Builds the usage object answered by the usage endpoints. */
export function usageView(
  req: {
    customerId: string;
    plan: string;
    period: Period;
    limit: number | null;
    /** The tier bills calls past the limit (overage). */
    overage?: boolean | undefined;
  },
  count: number,
): UsageView {
  return {
    userId: req.customerId,
    count,
    usageCount: count,
    limit: req.limit,
    remaining: req.limit === null ? null : Math.max(0, req.limit - count),
    overage: req.overage && req.limit !== null ? Math.max(0, count - req.limit) : 0,
    plan: req.plan,
    periodStart: req.period.start,
    periodEnd: req.period.end,
  };
}

// JSON of strings seen lately (plan names, period bounds): a handful per project
const jsonStrings = new Map<string, string>();
function jsonString(v: string): string {
  let j = jsonStrings.get(v);
  if (j === undefined) {
    if (jsonStrings.size > 10_000) jsonStrings.clear();
    j = JSON.stringify(v);
    jsonStrings.set(v, j);
  }
  return j;
}

/**
 * `JSON.stringify(usage)`, the same bytes, built from a template: the hot path answers with it
 * at tens of thousands of requests per second, where the generic walk costs measurably more.
 */
export function usageJson(u: UsageView): string {
  return `{"userId":${
    JSON.stringify(u.userId)
  },"count":${u.count},"usageCount":${u.count},"limit":${u.limit},"remaining":${u.remaining},"overage":${u.overage},"plan":${
    jsonString(u.plan)
  },"periodStart":${jsonString(u.periodStart)},"periodEnd":${jsonString(u.periodEnd)}}`;
}
