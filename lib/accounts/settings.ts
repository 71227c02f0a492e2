/**
 * A developer's own account: change the password, sign out everywhere. Both end every other
 * session at once (the developer's session epoch moves); the browser that asked gets a new one.
 */
import { z } from "zod";
import type { Services } from "@/lib/services.ts";
import { type Developer, updateDeveloper } from "@/lib/kv/developers.ts";
import { hashPassword, verifyPassword } from "@/lib/crypto.ts";
import { startSession } from "@/lib/accounts/accounts.ts";
import { ValidationError } from "@/lib/errors.ts";

export const PasswordChangeSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(10, "must be at least 10 characters").max(256),
}).strict();

/** Checks the current password, stores the new one hashed, ends other sessions. */
export function changePassword(
  s: Services,
  dev: Developer,
  input: z.infer<typeof PasswordChangeSchema>,
): Promise<{ sessionToken: string }> {
  return s.passwords.run(async () => {
    if (dev.passwordHash === "clerk") {
      throw new ValidationError("This account signs in with Clerk: change the password there");
    }
    if (!(await verifyPassword(input.currentPassword, dev.passwordHash))) {
      throw new ValidationError("The current password is wrong", [
        { field: "currentPassword", message: "wrong password" },
      ]);
    }
    const passwordHash = await hashPassword(input.newPassword, s.config.passwordIterations);
    const next = await updateDeveloper(s.kv, dev.id, (d) => ({
      ...d,
      passwordHash,
      sessionEpoch: (d.sessionEpoch ?? 0) + 1,
    }));
    return { sessionToken: await startSession(s, dev.id, next.sessionEpoch) };
  });
}

/** Ends every session of the developer, this one included. */
export async function signOutEverywhere(s: Services, dev: Developer): Promise<void> {
  await updateDeveloper(s.kv, dev.id, (d) => ({ ...d, sessionEpoch: (d.sessionEpoch ?? 0) + 1 }));
}
