/**
 * Usage-based billing in the sandbox, shaped like Stripe's Billing Meters: meters, metered
 * prices (`per` events make one billed unit, rounded up) and meter events, deduplicated by
 * their identifier. At a renewal the ended period's events become an invoice line.
 */
import type {
  AccountRef,
  MeteredPriceRequest,
  MeterEventRequest,
  MeterRequest,
  StripePrice,
  StripeSubscription,
} from "@/lib/payments/provider.ts";
import type { SandboxStore } from "@/lib/kv/sandbox.ts";
import { newId, priceObject, sec } from "@/lib/payments/sandbox/objects.ts";

interface MeterEvent {
  id: string;
  event_name: string;
  customer: string;
  value: number;
  timestamp: number;
}

/** A metered price: recurring, usage_type "metered", on a meter. */
export type MeteredPrice = StripePrice & {
  recurring: { usage_type?: string; meter?: string | null };
  transform_quantity?: { divide_by: number; round: string } | null;
};

export const isMetered = (p: StripePrice) =>
  (p as MeteredPrice).recurring?.usage_type === "metered";

export function createMeter(
  store: SandboxStore,
  o: MeterRequest & { now: number },
): Promise<string> {
  return store.once(o.idempotencyKey, () => {
    const id = newId("mtr");
    return {
      id,
      objects: [{
        kind: "meter",
        id,
        value: {
          id,
          object: "billing.meter",
          event_name: o.eventName,
          display_name: o.displayName,
          default_aggregation: { formula: "sum" },
          customer_mapping: { type: "by_id", event_payload_key: "stripe_customer_id" },
          value_settings: { event_payload_key: "value" },
          status: "active",
          created: sec(o.now),
        },
      }],
    };
  }).then((m) => m.id);
}

export function createMeteredPrice(
  store: SandboxStore,
  acct: AccountRef,
  o: MeteredPriceRequest & { now: number },
): Promise<string> {
  return store.once(o.idempotencyKey, () => {
    const id = newId("price");
    const base = priceObject({ id, ...o }, { live: acct.mode === "live", now: o.now });
    const value = {
      ...base,
      recurring: { ...base.recurring!, usage_type: "metered", meter: o.meter },
      transform_quantity: o.per > 1 ? { divide_by: o.per, round: "up" } : null,
    };
    return { id, objects: [{ kind: "price", id, value }] };
  }).then((m) => m.id);
}

export async function reportMeterEvent(
  store: SandboxStore,
  o: MeterEventRequest,
): Promise<void> {
  // the identifier is the key: a repeated report replaces itself, it never adds up twice
  await store.put(
    "meter_event",
    `${o.customer}:${o.identifier}`,
    {
      id: o.identifier,
      event_name: o.eventName,
      customer: o.customer,
      value: o.value,
      timestamp: o.timestamp,
    } satisfies MeterEvent,
  );
}

/**
 * The invoice lines of a subscription's metered items for the period `start`..`end` (epoch
 * seconds): the events of its customer on each item's meter, in billed units.
 */
export async function meteredLines(
  store: SandboxStore,
  sub: StripeSubscription,
  period: { start: number; end: number },
) {
  const lines: Record<string, unknown>[] = [];
  for (const item of sub.items.data) {
    const price = item.price as MeteredPrice;
    if (!isMetered(price) || !price.recurring.meter) continue;
    const meter = await store.get<{ event_name: string }>("meter", price.recurring.meter);
    let value = 0;
    for (const e of await store.listByIdPrefix<MeterEvent>("meter_event", `${sub.customer}:`)) {
      if (
        e.event_name === meter.event_name && e.customer === sub.customer &&
        e.timestamp >= period.start && e.timestamp < period.end
      ) value += e.value;
    }
    if (value <= 0) continue;
    const units = Math.ceil(value / (price.transform_quantity?.divide_by ?? 1));
    lines.push({
      id: newId("il"),
      object: "line_item",
      amount: units * (price.unit_amount ?? 0),
      currency: price.currency,
      description: `Usage past the limit: ${value} calls`,
      period: { start: period.start, end: period.end },
      quantity: units,
      pricing: {
        type: "price_details",
        price_details: { price: price.id, product: price.product },
      },
    });
  }
  return lines;
}
