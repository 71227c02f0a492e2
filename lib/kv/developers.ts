/** Developer accounts: one per platform id, unique by email. */
import { RETRY, retryAtomic, updateChecked } from "@/lib/kv/_atomic.ts";
import { eventKeys, withClaim } from "@/lib/kv/events.ts";
import { ConflictError, NotFoundError } from "@/lib/errors.ts";

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

export const developerKeys = {
  byId: (id: string) => ["developers", id] as const,
  byEmail: (email: string) => ["developers_by_email", email] as const,
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
  const res = await kv.atomic().check(cur).delete(cur.key)
    .delete(developerKeys.byEmail(cur.value.email)).commit();
  return res.ok;
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
