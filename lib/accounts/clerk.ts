/**
 * Clerk sign-in, when configured: session tokens (RS256 JWTs) are verified networklessly with
 * the instance's public key (`CLERK_JWT_KEY`) through `@clerk/backend`, and each Clerk user gets
 * a developer account (platform id) on first sight.
 */
import { verifyToken } from "@clerk/backend";
import type { Services } from "@/lib/services.ts";
import {
  createDeveloper,
  type Developer,
  getDeveloper,
  getDeveloperIdByClerkUser,
  linkClerkUser,
  unlinkClerkUser,
} from "@/lib/kv/developers.ts";
import { newPlatformId } from "@/lib/ids.ts";
import { ConflictError } from "@/lib/errors.ts";

/** The Clerk instance's frontend API host, from its publishable key (pk_test_<base64(host$)>). */
export function clerkFrontendApi(publishableKey: string): string {
  const enc = publishableKey.split("_")[2] ?? "";
  try {
    return atob(enc).replace(/\$$/, "");
  } catch {
    return "";
  }
}

/** The developer of a valid Clerk session token, created on first sight; null when invalid. */
export async function developerForClerkToken(
  s: Services,
  token: string,
): Promise<Developer | null> {
  const clerk = s.config.clerk;
  if (!clerk) return null;
  let claims: Record<string, unknown>;
  try {
    claims = await verifyToken(token, {
      jwtKey: clerk.jwtKey,
      ...(clerk.authorizedParties.length ? { authorizedParties: clerk.authorizedParties } : {}),
      clockSkewInMs: 5_000,
    }) as unknown as Record<string, unknown>;
  } catch {
    return null;
  }
  const userId = typeof claims.sub === "string" ? claims.sub : null;
  if (!userId) return null;
  const ptr = await getDeveloperIdByClerkUser(s.kv, userId);
  if (ptr) {
    const linked = await getDeveloper(s.kv, ptr);
    if (linked) return linked;
    await unlinkClerkUser(s.kv, userId, ptr); // its account was deleted: start afresh
  }
  const email = typeof claims.email === "string"
    ? claims.email.toLowerCase()
    : `${userId}@clerk.invalid`;
  const dev: Developer = {
    id: newPlatformId(),
    email,
    passwordHash: "clerk",
    createdAt: new Date(s.clock.now()).toISOString(),
    connection: null,
    planStatus: "none",
  };
  const holder = await linkClerkUser(s.kv, userId, dev);
  if (holder !== dev.id) return holder ? await getDeveloper(s.kv, holder) : null;
  try {
    return await createDeveloper(s.kv, dev);
  } catch (err) {
    if (err instanceof ConflictError) {
      return await createDeveloper(s.kv, { ...dev, email: `${userId}@clerk.invalid` });
    }
    throw err;
  }
}
