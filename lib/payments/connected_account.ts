/** Which payment account a project's money goes to. */
import type { Services } from "@/lib/services.ts";
import type { Project } from "@/lib/kv/projects.ts";
import { type Developer, getDeveloper, updateDeveloper } from "@/lib/kv/developers.ts";
import type { AccountRef } from "@/lib/payments/provider.ts";
import { AppError } from "@/lib/errors.ts";
import { randomBase62 } from "@/lib/ids.ts";

/**
 * The developer's connected account for the project's mode. With the sandbox, a developer who
 * has not connected yet is connected on first need (as `GET /v1/connect/authorize` would), so
 * the embedded default runs end to end; with Stripe it is a 409 asking to connect first.
 */
export async function accountFor(s: Services, project: Project): Promise<AccountRef> {
  const dev = await getDeveloper(s.kv, project.platformId);
  if (!dev) throw new AppError("internal_error", "project without developer");
  const acct = dev.connection?.[project.mode];
  if (acct) return { accountId: acct.accountId, mode: project.mode };
  if (s.payments.kind === "sandbox") {
    const next = await connectSandbox(s, dev);
    return { accountId: next.connection![project.mode]!.accountId, mode: project.mode };
  }
  throw new AppError(
    "conflict",
    `Connect a Stripe account for ${project.mode} mode first (GET /v1/connect/authorize?mode=${project.mode})`,
  );
}

/** Connects a sandbox account for both modes at once. */
export function connectSandbox(s: Services, dev: Developer): Promise<Developer> {
  return updateDeveloper(s.kv, dev.id, (d) => {
    if (d.connection?.provider === "sandbox" && d.connection.test && d.connection.live) return d;
    const connectedAt = new Date(s.clock.now()).toISOString();
    const account = { accountId: `acct_sandbox${randomBase62(12)}`, connectedAt };
    return { ...d, connection: { provider: "sandbox", test: account, live: account } };
  });
}
