/**
 * Seeds a project's store as a busy API's would look: `customers` customers (`seed_0` …) and
 * `events` usage events this period, written straight into the KV file of a stopped server
 * (`deno task bench`, and `deno task ab` with AB_SEED).
 */
import { customerKeys } from "@/lib/kv/customers.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { usageKeys } from "@/lib/kv/usage.ts";
import { calendarMonth, dayKey, monthKey } from "@/lib/period.ts";
import { ulid } from "@/lib/ids.ts";

export async function seedStore(dataDir: string, pk: string, customers: number, events: number) {
  const kv = await Deno.openKv(`${dataDir}/kv.sqlite3`);
  const now = Date.now();
  const period = calendarMonth(now);
  const perCustomer = customers > 0 ? Math.floor(events / customers) : 0;
  for (let i = 0; i < customers; i += 300) {
    let op = kv.atomic();
    for (let j = i; j < Math.min(i + 300, customers); j++) {
      const id = `seed_${j}`;
      const listId = ulid(now);
      op = op.set(customerKeys.byId(pk, id), {
        id,
        pk,
        email: null,
        name: null,
        passwordHash: null,
        tierId: null,
        subscription: null,
        providerCustomerId: null,
        metadata: {},
        listId,
        createdAt: new Date(now).toISOString(),
      })
        .set(customerKeys.byCreated(pk, listId), id)
        .set(usageKeys.counter(pk, id, period.start), perCustomer);
    }
    await op.commit();
  }
  await kv.atomic()
    .sum(projectStatKeys.customersCreated(pk), BigInt(customers))
    .sum(projectStatKeys.usageMonth(pk, monthKey(now)), BigInt(perCustomer * customers))
    .sum(projectStatKeys.usageDay(pk, dayKey(now)), BigInt(perCustomer * customers))
    .commit();
  kv.close();
  return perCustomer * customers;
}
