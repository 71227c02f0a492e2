/** Developer accounts: one per platform id, unique by email. */
import { RETRY, retryAtomic, updateChecked } from "@/lib/kv/_atomic.ts";
import { eventKeys, withClaim } from "@/lib/kv/events.ts";
import { ConflictError, NotFoundError } from "@/lib/errors.ts";
import type { Mode } from "@/lib/ids.ts";

export interface Developer {
  id: string; // plt_…
  email: string;
  passwordHash: string;
  createdAt: string;
  /** Payment-provider connection per mode; set by the connect flow. */
  connection: Connection | null;
  /** The developer's own platform subscription status. */
  planStatus: "none" | "active" | "past_due" | "canceled";
  /** When the plan's state was read from the provider (ms): an older read never replaces it. */
  planVersion?: number;
  /** Sessions of an older epoch no longer work ("sign out everywhere", password change). */
  sessionEpoch?: number;
}

export interface ConnectedAccount {
  accountId: string;
  connectedAt: string;
}

export interface Connection {
  provider: "sandbox" | "stripe";
  test: ConnectedAccount | null;
  live: ConnectedAccount | null;
}

/** The developer's Stripe account of `mode`, or null (none, or a sandbox connection). */
export function stripeAccount(d: Developer, mode: Mode): ConnectedAccount | null {
  return d.connection?.provider === "stripe" ? d.connection[mode] : null;
}

export const developerKeys = {
  byId: (id: string) => ["developers", id] as const,
  byEmail: (email: string) => ["developers_by_email", email] as const,
  /** The developer whose Stripe account of `mode` this is (set with the connection). */
  byAccount: (mode: Mode, accountId: string) => ["developers_by_account", mode, accountId] as const,
};

/** Creates a developer and its email index atomically; a taken email is a ConflictError. */
export async function createDeveloper(kv: Deno.Kv, dev: Developer): Promise<Developer> {
  const res = await kv.atomic()
    .check({ key: developerKeys.byEmail(dev.email), versionstamp: null })
    .check({ key: developerKeys.byId(dev.id), versionstamp: null })
    .set(developerKeys.byId(dev.id), dev)
    .set(developerKeys.byEmail(dev.email), dev.id)
    .commit();
  if (!res.ok) throw new ConflictError(`Cannot sign up "${dev.email}": the email is taken`);
  return dev;
}

export async function getDeveloper(kv: Deno.Kv, id: string): Promise<Developer | null> {
  return (await kv.get<Developer>(developerKeys.byId(id))).value;
}

export async function getDeveloperByEmail(kv: Deno.Kv, email: string): Promise<Developer | null> {
  const ptr = await kv.get<string>(developerKeys.byEmail(email));
  return ptr.value ? getDeveloper(kv, ptr.value) : null;
}

/** Read-modify-write of a developer, checked on its versionstamp. */
export function updateDeveloper(
  kv: Deno.Kv,
  id: string,
  change: (d: Developer) => Developer,
): Promise<Developer> {
  return updateChecked<Developer, Developer>(kv, developerKeys.byId(id), {
    what: "update the developer",
    change: (cur) => {
      if (!cur) throw new NotFoundError(`No developer ${id}`);
      const next = change(cur);
      return { next, result: next };
    },
  });
}

/**
 * Removes a developer (account deletion): the record, its email index (the email can sign up
 * again) checked on the record read. A Clerk link left behind is dropped at that
 * user's next sign-in.
 */
export async function deleteDeveloper(kv: Deno.Kv, id: string): Promise<boolean> {
  const cur = await kv.get<Developer>(developerKeys.byId(id));
  if (!cur.value) return false;
  let op = kv.atomic().check(cur).delete(cur.key).delete(developerKeys.byEmail(cur.value.email));
  for (const mode of ["test", "live"] as const) {
    const acct = stripeAccount(cur.value, mode);
    if (acct) op = op.delete(developerKeys.byAccount(mode, acct.accountId));
  }
  return (await op.commit()).ok;
}

/**
 * Sets (null: clears) the developer's Stripe account of a mode, with its index by account id, in
 * one commit checked on the record read; the index of an account it replaces goes. With `only`,
 * nothing changes unless that account is the mode's now and was connected no later than
 * `connectedBy` (a late notice about an account connected again since changes nothing). Answers
 * the developer as written, or null when it was left as it was.
 */
export function setStripeAccount(
  kv: Deno.Kv,
  id: string,
  o: {
    mode: Mode;
    account: ConnectedAccount | null;
    only?: { accountId: string; connectedBy: number };
  },
): Promise<Developer | null> {
  return retryAtomic("change the payment account", async () => {
    const cur = await kv.get<Developer>(developerKeys.byId(id));
    if (!cur.value) throw new NotFoundError(`No developer ${id}`);
    const before = stripeAccount(cur.value, o.mode);
    if (
      o.only &&
      (before?.accountId !== o.only.accountId ||
        Date.parse(before.connectedAt) > o.only.connectedBy)
    ) return null;
    const next: Developer = {
      ...cur.value,
      connection: {
        provider: "stripe",
        test: stripeAccount(cur.value, "test"),
        live: stripeAccount(cur.value, "live"),
        [o.mode]: o.account,
      },
    };
    let op = kv.atomic().check(cur).set(cur.key, next);
    if (before && before.accountId !== o.account?.accountId) {
      op = op.delete(developerKeys.byAccount(o.mode, before.accountId));
    }
    if (o.account) op = op.set(developerKeys.byAccount(o.mode, o.account.accountId), id);
    return (await op.commit()).ok ? next : RETRY;
  });
}

/**
 * The developer whose Stripe account of `mode` this is, or null. Accounts connected before the
 * index existed are found by a scan of the developers (a rare event: an account leaving).
 */
export async function developerIdByAccount(
  kv: Deno.Kv,
  mode: Mode,
  accountId: string,
): Promise<string | null> {
  const ptr = await kv.get<string>(developerKeys.byAccount(mode, accountId));
  if (ptr.value) return ptr.value;
  for await (const e of kv.list<Developer>({ prefix: ["developers"] })) {
    if (stripeAccount(e.value, mode)?.accountId === accountId) return e.value.id;
  }
  return null;
}

/**
 * Sets a developer's platform plan status with the claim of the event that changed it, in one
 * commit: "duplicate" when the event was claimed before. An unknown developer only claims it.
 */
export function setPlanStatusOnce(
  kv: Deno.Kv,
  o: {
    developerId: string;
    status: Developer["planStatus"];
    eventId: string;
    now: number;
    /** When the status was read from the provider (ms): an older read changes nothing. */
    version: number;
  },
): Promise<"applied" | "stale" | "duplicate"> {
  return retryAtomic("apply the platform plan", async () => {
    const [dev, claim] = await kv.getMany<[Developer, unknown]>([
      developerKeys.byId(o.developerId),
      eventKeys.claim(o.eventId),
    ]);
    if (claim!.value) return "duplicate" as const;
    let op = withClaim(kv.atomic(), o.eventId, o.now);
    const newer = dev!.value !== null && (dev!.value.planVersion ?? 0) <= o.version;
    if (newer) {
      op = op.check(dev!).set(dev!.key, {
        ...dev!.value!,
        planStatus: o.status,
        planVersion: o.version,
      });
    }
    return (await op.commit()).ok ? (newer ? "applied" as const : "stale" as const) : RETRY;
  });
}

/** Clerk users signed in through the dashboard: their developer, by Clerk user id. */
export const clerkKeys = {
  byUser: (userId: string) => ["developers_by_clerk", userId] as const,
};

/** Drops a Clerk user's link to a developer that no longer exists (a deleted account). */
export async function unlinkClerkUser(kv: Deno.Kv, userId: string, devId: string): Promise<void> {
  const cur = await kv.get<string>(clerkKeys.byUser(userId));
  if (cur.value === devId) await kv.atomic().check(cur).delete(cur.key).commit();
}

export async function getDeveloperIdByClerkUser(kv: Deno.Kv, userId: string) {
  return (await kv.get<string>(clerkKeys.byUser(userId))).value;
}

/**
 * Links a Clerk user to a developer once (unique): the developer that holds the link after the
 * call, which is another one when a concurrent sign-in linked first.
 */
export async function linkClerkUser(
  kv: Deno.Kv,
  userId: string,
  dev: Developer,
): Promise<string | null> {
  const res = await kv.atomic()
    .check({ key: clerkKeys.byUser(userId), versionstamp: null })
    .set(clerkKeys.byUser(userId), dev.id)
    .commit();
  return res.ok ? dev.id : await getDeveloperIdByClerkUser(kv, userId);
}
