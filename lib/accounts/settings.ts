/**
 * A developer's own account: change the password, sign out everywhere, delete the account.
 * The first two end every other session at once (the developer's session epoch moves); the
 * browser that asked gets a new one. Deletion ends them all.
 */
import { z } from "zod";
import type { Services } from "@/lib/services.ts";
import { deleteDeveloper, type Developer, updateDeveloper } from "@/lib/kv/developers.ts";
import { deleteAllAccessTokens } from "@/lib/kv/access_tokens.ts";
import { deleteAllProjects } from "@/lib/projects/lifecycle.ts";
import { hashPassword, verifyPassword } from "@/lib/crypto.ts";
import { startSession } from "@/lib/accounts/accounts.ts";
import { ConflictError, ValidationError } from "@/lib/errors.ts";

export const PasswordChangeSchema = z.object({
  currentPassword: z.string().min(1).max(256),
  newPassword: z.string().min(8, "must be at least 8 characters").max(256),
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

export const AccountDeleteSchema = z.object({
  /** The password (password accounts) or the account's email (Clerk accounts), to confirm. */
  confirm: z.string().min(1).max(256),
}).strict();

/**
 * Deletes the account: every project is deleted (keys stop at once, data purged after 30
 * days) and its running subscriptions are canceled at the provider (nobody can restore these
 * projects, and the purge could no longer reach the account), access tokens and sessions end,
 * the email is free again. Refused while the platform plan is paid (cancel it first), or when
 * the confirmation is wrong.
 */
export async function deleteAccount(
  s: Services,
  dev: Developer,
  input: z.infer<typeof AccountDeleteSchema>,
): Promise<{ projects: number }> {
  const ok = dev.passwordHash === "clerk"
    ? input.confirm.trim().toLowerCase() === dev.email
    : await s.passwords.run(() => verifyPassword(input.confirm, dev.passwordHash));
  if (!ok) {
    throw new ValidationError(
      dev.passwordHash === "clerk" ? "Type your account's email to confirm" : "Wrong password",
      [{ field: "confirm", message: "does not match" }],
    );
  }
  if (dev.planStatus === "active" || dev.planStatus === "past_due") {
    throw new ConflictError("Cancel your platform plan first: it is still being paid");
  }
  const projects = await deleteAllProjects(s, dev.id, { endSubscriptions: true });
  await deleteAllAccessTokens(s.kv, dev.id);
  await deleteDeveloper(s.kv, dev.id);
  return { projects };
}
