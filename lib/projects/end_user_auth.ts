/** A project's end-user sign-in settings (Clerk session tokens verified with its public key). */
import { z } from "zod";
import { HttpUrl } from "@/lib/schemas.ts";
import { ValidationError } from "@/lib/errors.ts";
import type { EndUserAuth } from "@/lib/kv/projects.ts";

const PEM_RE =
  /^-----BEGIN PUBLIC KEY-----\s+[A-Za-z0-9+/=\s]{100,4000}\s*-----END PUBLIC KEY-----\s*$/;

/** The end-user sign-in settings a developer may give a project (null turns it off). */
export const EndUserAuthSchema = z.object({
  jwtKey: z.string().trim().max(5000).regex(
    PEM_RE,
    "must be a PEM public key (-----BEGIN PUBLIC KEY----- …)",
  ),
  issuer: HttpUrl.optional(),
  authorizedParties: z.array(HttpUrl).max(20).optional(),
}).strict();

/** The setting to store: checked (the key imports) and without empty optional fields. */
export async function endUserAuthSetting(
  auth: z.infer<typeof EndUserAuthSchema> | null,
): Promise<EndUserAuth | null> {
  if (auth === null) return null;
  if (!(await importableKey(auth.jwtKey))) {
    throw new ValidationError("endUserAuth.jwtKey is not an RSA public key", [
      { field: "endUserAuth.jwtKey", message: "not an importable RSA public key (SPKI PEM)" },
    ]);
  }
  return {
    jwtKey: auth.jwtKey,
    ...(auth.issuer ? { issuer: auth.issuer } : {}),
    ...(auth.authorizedParties ? { authorizedParties: auth.authorizedParties } : {}),
  };
}

/** Checks that the PEM is an RSA public key Web Crypto can import (zod checked its shape). */
export async function importableKey(pem: string): Promise<boolean> {
  const b64 = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  try {
    const der = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    await crypto.subtle.importKey(
      "spki",
      der,
      { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
      false,
      ["verify"],
    );
    return true;
  } catch {
    return false;
  }
}
