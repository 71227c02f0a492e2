/** Developer accounts: one per platform id, unique by email. */
import { updateChecked } from "@/lib/kv/_atomic.ts";
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
