/** Usage counters: one number per customer per billing period, written only by the meter. */
export const usageKeys = {
  /** `periodKey` is the period start as an ISO string, so a prefix scan is a time series. */
  counter: (pk: string, customerId: string, periodKey: string) =>
    ["usage", pk, customerId, periodKey] as const,
  byCustomer: (pk: string, customerId: string) => ["usage", pk, customerId] as const,
};

/** Removes every usage counter of a customer (customer deletion). */
export async function deleteCustomerUsage(kv: Deno.Kv, pk: string, customerId: string) {
  const keys: Deno.KvKey[] = [];
  for await (const e of kv.list({ prefix: usageKeys.byCustomer(pk, customerId) })) keys.push(e.key);
  for (let i = 0; i < keys.length; i += 100) {
    let op = kv.atomic();
    for (const k of keys.slice(i, i + 100)) op = op.delete(k);
    await op.commit();
  }
  return keys;
}
