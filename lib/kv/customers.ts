/** Customers of a project: the developer's own user id (or cus_…), unique per project. */
import { RETRY, retryAtomic } from "@/lib/kv/_atomic.ts";
import { NotFoundError } from "@/lib/errors.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";

export interface Subscription {
  id: string;
  tierId: string;
  /** The provider price the subscription is on. */
  priceId: string;
  /** What it brings per month in minor units (yearly / 12), for MRR. */
  monthlyAmount: number;
  currency: string;
  status: "active" | "trialing" | "past_due" | "canceled" | "incomplete" | "unpaid";
  currentPeriodStart: string;
  currentPeriodEnd: string;
  cancelAtPeriodEnd: boolean;
  /** Provider's timestamp of the state we hold; newer events win. */
  updatedAt: number;
}

export interface Customer {
  id: string;
  pk: string;
  email: string | null;
  name: string | null;
  passwordHash: string | null;
  /** Stable id of the tier the customer is on (null: the project's free tier). */
  tierId: string | null;
  subscription: Subscription | null;
  /** The customer's id at the payment provider (cus_…), once a checkout made one. */
  providerCustomerId: string | null;
  metadata: Record<string, string>;
  listId: string;
  createdAt: string;
}

export const customerKeys = {
  byId: (pk: string, id: string) => ["customers", pk, id] as const,
  byCreated: (pk: string, listId: string) => ["customers_by_created", pk, listId] as const,
  listByCreated: (pk: string) => ["customers_by_created", pk] as const,
  /** A subscription that ended with its customer's deletion: its later events are ignored. */
  endedSubscription: (pk: string, subscriptionId: string) =>
    ["ended_subscriptions", pk, subscriptionId] as const,
};

/** Creates a customer (unique per project) and counts it; false when the id is taken. */
export async function createCustomer(kv: Deno.Kv, c: Customer): Promise<boolean> {
  const res = await kv.atomic()
    .check({ key: customerKeys.byId(c.pk, c.id), versionstamp: null })
    .set(customerKeys.byId(c.pk, c.id), c)
    .set(customerKeys.byCreated(c.pk, c.listId), c.id)
    .sum(projectStatKeys.customersCreated(c.pk), 1n)
    .commit();
  return res.ok;
}

export async function getCustomer(kv: Deno.Kv, pk: string, id: string): Promise<Customer | null> {
  return (await kv.get<Customer>(customerKeys.byId(pk, id))).value;
}

/** Read-modify-write of a customer checked on its versionstamp. */
export function updateCustomer(
  kv: Deno.Kv,
  pk: string,
  id: string,
  change: (c: Customer) => Customer,
): Promise<Customer> {
  return retryAtomic("update the customer", async () => {
    const cur = await kv.get<Customer>(customerKeys.byId(pk, id));
    if (!cur.value) throw new NotFoundError(`No customer "${id}" in this project`);
    const next = change(cur.value);
    const res = await kv.atomic().check(cur).set(cur.key, next).commit();
    return res.ok ? next : RETRY;
  });
}

/** One page of a project's customers in creation order, with an opaque cursor. */
export async function listCustomers(
  kv: Deno.Kv,
  pk: string,
  opts: { limit: number; cursor?: string },
): Promise<{ items: Customer[]; nextCursor: string | null }> {
  const iter = kv.list<string>({ prefix: customerKeys.listByCreated(pk) }, {
    limit: opts.limit,
    ...(opts.cursor ? { cursor: opts.cursor } : {}),
  });
  const ids: string[] = [];
  for await (const e of iter) ids.push(e.value);
  const items: Customer[] = [];
  for (let i = 0; i < ids.length; i += 10) {
    const got = await kv.getMany<Customer[]>(
      ids.slice(i, i + 10).map((id) => customerKeys.byId(pk, id)),
    );
    for (const g of got) if (g.value) items.push(g.value);
  }
  return { items, nextCursor: ids.length === opts.limit && iter.cursor ? iter.cursor : null };
}
