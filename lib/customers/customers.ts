/** Customers of a SaaS project: create, read with usage, delete, auto-create, tokens. */
import { webhookEvents } from "@/lib/outbound/events.ts";
import { z } from "zod";
import { Email, Metadata } from "@/lib/schemas.ts";
import { jwtVerify, SignJWT } from "jose";
import type { Services } from "@/lib/services.ts";
import { CUSTOMER_ID_RE, newCustomerId, ulid } from "@/lib/ids.ts";
import {
  changeCustomer,
  createCustomer as kvCreateCustomer,
  type Customer,
  getCustomer,
  listCustomers,
  removeCustomer,
  searchCustomers,
  type Subscription,
} from "@/lib/kv/customers.ts";
import { aggregateDeltas, PAID_STATUSES, planOf } from "@/lib/usage/plan.ts";
import { cancelNowUnbilled } from "@/lib/payments/cancel_now.ts";
import { takeOpenCheckout } from "@/lib/kv/open_checkouts.ts";
import { accountFor } from "@/lib/payments/connected_account.ts";
import { expireIfOpen } from "@/lib/payments/expire_checkout.ts";
import { afterward } from "@/lib/afterward.ts";
import type { Project, Tier } from "@/lib/kv/projects.ts";
import { freeTier } from "@/lib/catalog/tiers.ts";
import { dayKey } from "@/lib/period.ts";
import { usageView } from "@/lib/usage/meter.ts";
import { TierLimitError } from "@/lib/usage/track.ts";
import {
  ConflictError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from "@/lib/errors.ts";

export const CustomerIdSchema = z.string().regex(
  CUSTOMER_ID_RE,
  "must be 1–128 of A-Z a-z 0-9 _ . : @ -",
);

const PersonName = z.string().trim().min(1).max(200);

export const CustomerInputSchema = z.object({
  id: CustomerIdSchema.optional(),
  email: Email.optional(),
  name: PersonName.optional(),
  firstName: z.string().trim().min(1).max(100).optional(),
  lastName: z.string().trim().min(1).max(100).optional(),
  /** Accepted for the original SDK and ignored: customers don't sign in here, so it is never stored. */
  password: z.string().max(256).optional(),
  plan: z.string().min(1).max(63).optional(),
  metadata: Metadata.optional(),
});
export type CustomerInput = z.infer<typeof CustomerInputSchema>;

/** `PATCH /api/customers/:id`: any of these; `plan` a free tier only; `null` clears a name. */
export const CustomerPatchSchema = z.object({
  email: Email.nullable().optional(),
  name: PersonName.nullable().optional(),
  firstName: z.string().trim().min(1).max(100).nullable().optional(),
  lastName: z.string().trim().min(1).max(100).nullable().optional(),
  plan: z.string().min(1).max(63).optional(),
  metadata: Metadata.optional(),
}).strict();
export type CustomerPatch = z.infer<typeof CustomerPatchSchema>;

/** `name`, or the first and last names joined. */
function fullName(
  o: {
    name?: string | null | undefined;
    firstName?: string | null | undefined;
    lastName?: string | null | undefined;
  },
) {
  if (o.name) return o.name;
  const joined = [o.firstName, o.lastName].filter(Boolean).join(" ");
  return joined || null;
}

/** The tier `plan` names, which must be free (paid plans come from checkout). */
function freeTierNamed(project: Project, plan: string): Tier {
  const named = project.tiers.find((t) => t.name === plan && !t.archived);
  if (!named) {
    throw new ValidationError(`Unknown tier "${plan}"`, [{
      field: "plan",
      message: "unknown tier",
    }]);
  }
  if (named.price !== 0) {
    throw new ValidationError(`Tier "${plan}" is paid: customers get it through checkout`, [
      { field: "plan", message: "must be a free (price 0) tier" },
    ]);
  }
  return named;
}

/** Creates a customer; `plan` may only name a free tier (paid plans come from checkout). */
export async function createCustomer(
  s: Services,
  project: Project,
  input: CustomerInput,
): Promise<Customer> {
  const tier = input.plan !== undefined ? freeTierNamed(project, input.plan) : freeTier(project);
  const customer: Customer = {
    ...unsavedCustomer(s, project, input.id ?? newCustomerId()),
    email: input.email ?? null,
    name: fullName(input),
    firstName: input.firstName ?? null,
    lastName: input.lastName ?? null,
    passwordHash: null, // `password` is accepted for the original SDK and never stored
    tierId: tier?.id ?? null,
    metadata: input.metadata ?? {},
  };
  const events = webhookEvents(project, "customer.created", {
    object: customerObject(s, project, customer),
    version: s.clock.now(),
  });
  if (!(await kvCreateCustomer(s.kv, customer, { events, now: s.clock.now() }))) {
    throw new ConflictError(`Cannot create customer "${customer.id}": the id is taken`);
  }
  s.caches.customers.set(project.pk, customer.id, customer);
  return customer;
}

/**
 * Edits a customer: contact fields, metadata (replaced whole), and `plan`, a free tier only
 * (not while a subscription pays: its tier is the plan until it ends).
 */
export async function updateCustomer(
  s: Services,
  project: Project,
  o: { id: string; patch: CustomerPatch },
): Promise<Customer> {
  const { id, patch } = o;
  const tier = patch.plan !== undefined ? freeTierNamed(project, patch.plan) : undefined;
  let paying = false;
  const next = await changeCustomer(s.kv, {
    pk: project.pk,
    id,
    what: "update the customer",
    change: (c) => {
      if (tier && c.subscription && PAID_STATUSES.has(c.subscription.status)) {
        paying = true;
        return null;
      }
      const firstName = patch.firstName !== undefined ? patch.firstName : c.firstName ?? null;
      const lastName = patch.lastName !== undefined ? patch.lastName : c.lastName ?? null;
      const namesGiven = patch.firstName !== undefined || patch.lastName !== undefined;
      const name = patch.name !== undefined
        ? patch.name
        : namesGiven
        ? fullName({ firstName, lastName })
        : c.name;
      return {
        ...c,
        email: patch.email !== undefined ? patch.email : c.email,
        name,
        firstName,
        lastName,
        metadata: patch.metadata ?? c.metadata,
        tierId: tier ? tier.id : c.tierId,
      };
    },
  });
  if (paying) {
    throw new ConflictError(
      `Customer "${id}" has a paying subscription: its tier is the plan until it is canceled`,
    );
  }
  if (!next) throw new NotFoundError(`No customer "${id}" in this project`);
  s.caches.customers.set(project.pk, id, next);
  return next;
}

/**
 * A customer record as it would be created now (free tier, nothing used), not stored: reads and
 * refusals answer for a customer not seen yet without creating one.
 */
export function unsavedCustomer(s: Services, project: Project, id: string): Customer {
  const now = s.clock.now();
  return {
    id,
    pk: project.pk,
    email: null,
    name: null,
    passwordHash: null,
    tierId: freeTier(project)?.id ?? null,
    subscription: null,
    providerCustomerId: null,
    metadata: {},
    listId: ulid(now),
    createdAt: new Date(now).toISOString(),
  };
}

/** A customer through this instance's cache (a miss reads KV once). */
export async function findCustomer(s: Services, pk: string, id: string): Promise<Customer | null> {
  await s.epochs.ensure(pk);
  const hit = s.caches.customers.get(pk, id);
  if (hit) return hit;
  const mark = s.caches.customers.mark();
  const c = await getCustomer(s.kv, pk, id);
  if (c) s.caches.customers.fill(pk, id, c, mark); // not over a change made while it was read
  return c;
}

export async function requireCustomer(s: Services, pk: string, id: string): Promise<Customer> {
  const c = await findCustomer(s, pk, id);
  if (!c) throw new NotFoundError(`No customer "${id}" in this project`);
  return c;
}

/**
 * The customer named by `X-User-Id` (or an end-user token), created on the free tier when first
 * seen, with `o.email` when given.
 */
export async function ensureCustomer(
  s: Services,
  project: Project,
  id: string,
  o: { email?: string | undefined } = {},
): Promise<Customer> {
  const found = await findCustomer(s, project.pk, id);
  if (found) return found;
  try {
    return await createCustomer(s, project, { id, ...(o.email ? { email: o.email } : {}) });
  } catch (err) {
    if (!(err instanceof ConflictError)) throw err;
    return requireCustomer(s, project.pk, id); // created concurrently: use theirs
  }
}

/**
 * The customer a secret-key call tracks usage for: created on the free tier when first seen,
 * unless the call would be refused anyway (a quantity over the free limit), which then changes
 * nothing.
 */
export async function customerForTracking(
  s: Services,
  project: Project,
  o: { id: string; quantity: number },
): Promise<Customer> {
  const { id, quantity } = o;
  const found = await findCustomer(s, project.pk, id);
  if (found) return found;
  const draft = unsavedCustomer(s, project, id);
  const { plan, limit, period, overage } = planOf(s, project, draft);
  if (limit !== null && quantity > limit) {
    throw new TierLimitError(
      usageView({ customerId: id, plan: plan ?? "", limit, period, overage }, 0),
      quantity,
    );
  }
  return ensureCustomer(s, project, id);
}

/** The usage object of a customer now, counting nothing. */
export async function usageOf(s: Services, project: Project, c: Customer) {
  const { plan, limit, period, overage } = planOf(s, project, c);
  const count = await s.meter.peek(project.pk, c.id, period);
  return usageView({ customerId: c.id, plan: plan ?? "", limit, period, overage }, count);
}

/** The public shape of a subscription: its tier by name. */
export function subscriptionView(project: Project, sub: Subscription) {
  return {
    id: sub.id,
    tier: project.tiers.find((t) => t.id === sub.tierId)?.name ?? null,
    status: sub.status,
    currentPeriodStart: sub.currentPeriodStart,
    currentPeriodEnd: sub.currentPeriodEnd,
    cancelAtPeriodEnd: sub.cancelAtPeriodEnd,
  };
}

/** The public shape of a customer without its usage (what webhook events carry). */
export function customerObject(s: Services, project: Project, c: Customer) {
  const sub = c.subscription;
  return {
    id: c.id,
    email: c.email,
    name: c.name,
    firstName: c.firstName ?? null,
    lastName: c.lastName ?? null,
    plan: planOf(s, project, c).plan,
    metadata: c.metadata,
    createdAt: c.createdAt,
    subscription: sub ? subscriptionView(project, sub) : null,
  };
}

/** The public shape of a customer with its plan, subscription and current usage. */
export async function customerView(s: Services, project: Project, c: Customer) {
  return { ...customerObject(s, project, c), usage: await usageOf(s, project, c) };
}

/**
 * Deletes a customer's data (record and usage counters); payment history stays with the
 * provider. A subscription that still pays is canceled at the provider first (if that fails,
 * nothing is deleted); the dashboard aggregates drop it at once and its later events change
 * nothing.
 */
export async function deleteCustomer(s: Services, project: Project, id: string): Promise<void> {
  const found = await getCustomer(s.kv, project.pk, id);
  if (!found) throw new NotFoundError(`No customer "${id}" in this project`);
  const sub = found.subscription;
  if (sub && PAID_STATUSES.has(sub.status)) {
    await cancelNowUnbilled(s, project, { customerId: id, sub }); // their overage goes with them
  }
  const removed = await removeCustomer(s.kv, {
    pk: project.pk,
    id,
    deltas: (c) =>
      aggregateDeltas(project.pk, c.subscription, null, { day: dayKey(s.clock.now()) }),
    events: (c) =>
      webhookEvents(project, "customer.deleted", {
        object: customerObject(s, project, c),
        version: s.clock.now(),
      }),
    now: s.clock.now(),
  });
  if (!removed) {
    throw new NotFoundError(`No customer "${id}" in this project`);
  }
  s.caches.customers.delete(project.pk, id);
  // the customer is gone: what follows is done `afterward` (a retried deletion would find no
  // customer), and what still fails is logged, not answered as a failed deletion
  const about = { pk: project.pk, customerId: id };
  await afterward(
    s.logger,
    "a deleted customer's usage was not reset",
    about,
    () => s.meter.resetCustomer(project.pk, id),
  );
  // a checkout opened for the customer and not paid yet can't be paid any more
  await afterward(s.logger, "a deleted customer's open checkout was not ended", about, async () => {
    const open = await takeOpenCheckout(s.kv, { pk: project.pk, customerId: id });
    if (open) await expireIfOpen(s, accountFor(s, project), open, "the customer was deleted");
  });
}

export const TOKEN_TTL_SECONDS = 3600;
const AUDIENCE = "dream-api:customer";

/** Mints a customer token (HS256 JWT, ≤ 1 h) for one customer of one project. */
export async function mintCustomerToken(s: Services, project: Project, customerId: string) {
  await requireCustomer(s, project.pk, customerId);
  const iat = Math.floor(s.clock.now() / 1000);
  const exp = iat + TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ pk: project.pk })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(customerId)
    .setAudience(AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .sign(s.tokenKey);
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
}

/** The customer id a token names, if it is valid, unexpired and minted for this project. */
export async function verifyCustomerToken(s: Services, pk: string, token: string): Promise<string> {
  try {
    const { payload } = await jwtVerify(token, s.tokenKey, {
      audience: AUDIENCE,
      algorithms: ["HS256"],
      currentDate: new Date(s.clock.now()),
    });
    if (payload.pk !== pk || typeof payload.sub !== "string") throw new Error("other project");
    return payload.sub;
  } catch {
    throw new UnauthenticatedError("Invalid or expired customer token");
  }
}

/**
 * One page of a project's customers in creation order, each with plan and usage: what the
 * customer list (JSON and page) shows. `cursor` is the previous page's `nextCursor`.
 */
export async function customerPage(
  s: Services,
  project: Project,
  o: { limit?: number | undefined; cursor?: string | undefined; q?: string | undefined },
) {
  if (o.q) {
    const found = await searchCustomers(s.kv, project.pk, {
      prefix: o.q,
      limit: o.limit ?? 25,
      cursor: o.cursor,
    });
    const customers = await Promise.all(found.items.map((c) => customerView(s, project, c)));
    return { customers, nextCursor: found.nextCursor };
  }
  const page = await listCustomers(s.kv, project.pk, {
    limit: o.limit ?? 25,
    ...(o.cursor ? { cursor: o.cursor } : {}),
  });
  const customers = await Promise.all(page.items.map((c) => customerView(s, project, c)));
  return { customers, nextCursor: page.nextCursor };
}
