/**
 * The shapes of the provider events we act on, checked before any handler reads them: a signed
 * event whose object lacks what its type needs (`data.object` null, no items, a null price,
 * timestamps that are not numbers) is refused as a whole and changes nothing.
 */
import { z } from "zod";
import { fieldIssues, InvalidRequestError } from "@/lib/errors.ts";
import type { StripeEvent } from "@/lib/payments/provider.ts";

const Id = z.string().min(1).max(255);
const Seconds = z.number().int().nonnegative().max(32_503_680_000);
const Metadata = z.record(z.string(), z.string()).nullish();

const Price = z.object({
  id: Id,
  product: Id,
  unit_amount: z.number().int().nonnegative().nullable(),
  currency: z.string().min(3).max(3),
  recurring: z.object({ interval: z.enum(["day", "week", "month", "year"]) }).passthrough()
    .nullish(),
}).passthrough();

const Subscription = z.object({
  id: Id,
  customer: Id,
  status: z.string().min(1).max(40),
  cancel_at_period_end: z.boolean(),
  created: Seconds,
  metadata: Metadata,
  current_period_start: Seconds.optional(),
  current_period_end: Seconds.optional(),
  items: z.object({
    data: z.array(
      z.object({
        price: Price,
        quantity: z.number().int().nonnegative().optional(),
        current_period_start: Seconds.optional(),
        current_period_end: Seconds.optional(),
      }).passthrough(),
    ).min(1),
  }).passthrough(),
}).passthrough();

const CheckoutSession = z.object({
  id: Id,
  mode: z.enum(["subscription", "payment", "setup"]),
  payment_status: z.string().max(40),
  customer: Id.nullish(),
  subscription: Id.nullish(),
  metadata: Metadata,
  amount_total: z.number().int().nonnegative().nullish(),
  currency: z.string().max(3).nullish(),
}).passthrough();

const Invoice = z.object({
  subscription: Id.nullish(),
  parent: z.object({
    subscription_details: z.object({ subscription: Id.optional(), metadata: Metadata })
      .passthrough().nullish(),
  }).passthrough().nullish(),
}).passthrough();

const Charge = z.object({
  id: Id,
  amount: z.number().int().nonnegative(),
  amount_refunded: z.number().int().nonnegative(),
  metadata: Metadata,
}).passthrough();

const OBJECTS: Record<string, z.ZodType> = {
  "charge.refunded": Charge,
  "checkout.session.completed": CheckoutSession,
  "checkout.session.async_payment_succeeded": CheckoutSession,
  "checkout.session.expired": CheckoutSession,
  "customer.subscription.created": Subscription,
  "customer.subscription.updated": Subscription,
  "customer.subscription.deleted": Subscription,
  "customer.subscription.paused": Subscription,
  "customer.subscription.resumed": Subscription,
  "invoice.paid": Invoice,
  "invoice.created": Invoice,
  "invoice.payment_failed": Invoice,
};

const Envelope = z.object({
  id: Id,
  type: z.string().min(1).max(100),
  created: Seconds,
  account: Id.nullish(),
  livemode: z.boolean().optional(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
}).passthrough();

/**
 * The event, when it has the envelope every event has and the object its type needs; else a
 * 400 naming the fields. Null metadata becomes `{}` (Stripe's own default). Types we don't act
 * on only need the envelope.
 */
export function checkEvent(ev: unknown): StripeEvent {
  const env = Envelope.safeParse(ev);
  if (!env.success) throw malformed(env.error.issues);
  const shape = OBJECTS[env.data.type];
  if (shape) {
    const obj = shape.safeParse(env.data.data.object);
    if (!obj.success) {
      throw malformed(
        obj.error.issues.map((i) => ({ ...i, path: ["data", "object", ...i.path] })),
      );
    }
    const o = obj.data as Record<string, unknown>;
    if (o.metadata === null || o.metadata === undefined) o.metadata = {};
    return { ...env.data, data: { object: o } } as unknown as StripeEvent;
  }
  return env.data as unknown as StripeEvent;
}

function malformed(issues: readonly { path: readonly PropertyKey[]; message: string }[]) {
  return new InvalidRequestError(
    "Malformed event: it is signed but lacks fields its type needs",
    fieldIssues(issues),
  );
}
