/**
 * End-user tokens: who a customer-API call acts for, from `X-Customer-Token` or the original
 * dream-api SDK's `X-Clerk-Token`. Either a customer token of ours (HS256, minted by
 * `POST /api/customers/:id/token`) or, for a project with end-user sign-in configured
 * (`endUserAuth`), a Clerk session token verified offline with the project's PEM public key.
 * A Clerk user becomes a customer (id = `sub`) on first sight, with the token's email.
 */
import { z } from "zod";
import { verifyToken } from "@clerk/backend";
import { decodeProtectedHeader } from "jose";
import type { Services } from "@/lib/services.ts";
import type { EndUserAuth, Project } from "@/lib/kv/projects.ts";
import { CUSTOMER_ID_RE } from "@/lib/ids.ts";
import { UnauthenticatedError } from "@/lib/errors.ts";
import { ensureCustomer, verifyCustomerToken } from "@/lib/customers/customers.ts";

/** The claims of a Clerk session token valid for this project's end-user sign-in, or null. */
async function clerkClaims(
  auth: EndUserAuth,
  token: string,
): Promise<Record<string, unknown> | null> {
  try {
    const claims = await verifyToken(token, {
      jwtKey: auth.jwtKey,
      ...(auth.authorizedParties?.length ? { authorizedParties: auth.authorizedParties } : {}),
      clockSkewInMs: 5_000,
    }) as unknown as Record<string, unknown>;
    if (auth.issuer && claims.iss !== auth.issuer) return null;
    return claims;
  } catch {
    return null;
  }
}

function isOurs(token: string): boolean {
  try {
    return decodeProtectedHeader(token).alg === "HS256";
  } catch {
    return false;
  }
}

/**
 * The customer an end-user token names in `project`: ours, or a Clerk user when the project
 * has end-user sign-in (created on first sight). 401 for anything else.
 */
export async function customerOfToken(
  s: Services,
  project: Project,
  token: string,
): Promise<string> {
  if (isOurs(token) || !project.endUserAuth) return verifyCustomerToken(s, project.pk, token);
  const claims = await clerkClaims(project.endUserAuth, token);
  const sub = claims?.sub;
  if (typeof sub !== "string" || !CUSTOMER_ID_RE.test(sub)) {
    throw new UnauthenticatedError("Invalid or expired end-user token");
  }
  if (project.type === "saas") {
    const email = typeof claims!.email === "string" &&
        z.email().max(254).safeParse(claims!.email.toLowerCase()).success
      ? claims!.email.toLowerCase()
      : undefined;
    await ensureCustomer(s, project, sub, { email });
  }
  return sub;
}
