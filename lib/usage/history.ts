/**
 * A customer's usage per billing period, oldest first: the current period and the latest ones
 * with a stored count, each exact (folded count plus the log rows not folded yet).
 */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import type { Customer } from "@/lib/kv/customers.ts";
import { customerPeriodStarts } from "@/lib/kv/usage.ts";
import { planOf } from "@/lib/usage/plan.ts";

export interface PeriodUsage {
  periodStart: string;
  count: number;
}

export async function usageHistory(
  s: Services,
  project: Project,
  o: { customer: Customer; periods?: number },
): Promise<PeriodUsage[]> {
  const limit = o.periods ?? 12;
  const { period } = planOf(s, project, o.customer);
  const stored = await customerPeriodStarts(s.kv, project.pk, {
    customerId: o.customer.id,
    limit,
  });
  const starts = [...new Set([period.start, ...stored])].sort().slice(-limit);
  return await Promise.all(starts.map(async (start) => ({
    periodStart: start,
    count: await s.meter.peek(project.pk, o.customer.id, { start, end: start }),
  })));
}
