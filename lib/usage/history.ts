/**
 * A customer's usage per billing period, oldest first: the current period and the latest ones
 * with a count, stored or still in the log, each exact (folded count plus the log rows not
 * folded yet).
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
  const [stored, logged] = await Promise.all([
    customerPeriodStarts(s.kv, project.pk, { customerId: o.customer.id, limit }),
    // a period whose counts are all still in the log (not folded yet) has no stored count
    s.meter.loggedPeriods(project.pk, o.customer.id),
  ]);
  const starts = [...new Set([period.start, ...stored, ...logged])].sort().slice(-limit);
  return await Promise.all(starts.map(async (start) => ({
    periodStart: start,
    count: await s.meter.peek(project.pk, o.customer.id, { start, end: start }),
  })));
}
