/** Developer accounts: sign-up, sign-in with throttling, sessions and access tokens. */
import { z } from "zod";
import type { Services } from "@/lib/services.ts";
import { hashPassword, sha256Hex, verifyPassword } from "@/lib/crypto.ts";
import { newAccessToken, newPlatformId, newSessionToken, ulid } from "@/lib/ids.ts";
import {
  createDeveloper,
  type Developer,
  getDeveloper,
  getDeveloperByEmail,
} from "@/lib/kv/developers.ts";
import { createSession, deleteSession, getSession } from "@/lib/kv/sessions.ts";
import {
  type AccessToken,
  createAccessToken,
  deleteAccessToken,
  getAccessTokenByHash,
  listAccessTokens,
} from "@/lib/kv/access_tokens.ts";
import {
  clearLoginFailures,
  getLoginFailures,
  recordLoginFailure,
} from "@/lib/kv/login_failures.ts";
import { NotFoundError, RateLimitedError, UnauthenticatedError } from "@/lib/errors.ts";

export const CredentialsSchema = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email().max(254)),
  password: z.string().min(10, "must be at least 10 characters").max(256),
});
export type Credentials = z.infer<typeof CredentialsSchema>;

export const LOGIN_WINDOW_MS = 15 * 60_000;
export const LOGIN_MAX_FAILURES = 5;

/** What `/v1/me` and sign-up answer about a developer; never the password hash. */
export function publicDeveloper(d: Developer) {
  return {
    platformId: d.id,
    email: d.email,
    createdAt: d.createdAt,
    planStatus: d.planStatus,
    paymentConnection: d.connection
      ? { provider: d.connection.provider, test: d.connection.test, live: d.connection.live }
      : null,
  };
}

async function startSession(s: Services, developerId: string): Promise<string> {
  const token = newSessionToken();
  const now = s.clock.now();
  await createSession(s.kv, await sha256Hex(token), {
    developerId,
    createdAt: now,
    expiresAt: now + s.config.sessionTtlMs,
  });
  return token;
}

/** Creates a developer with a new platform id and starts a session (token returned once). */
export async function signup(s: Services, input: Credentials) {
  const dev = await createDeveloper(s.kv, {
    id: newPlatformId(),
    email: input.email,
    passwordHash: await hashPassword(input.password, s.config.passwordIterations),
    createdAt: new Date(s.clock.now()).toISOString(),
    connection: null,
    planStatus: "none",
  });
  return { developer: dev, sessionToken: await startSession(s, dev.id) };
}

/**
 * Signs a developer in. After `LOGIN_MAX_FAILURES` failures for one email within
 * `LOGIN_WINDOW_MS`, further attempts are refused with `rate_limited` until the window ends,
 * whether or not the password is right.
 */
export async function login(s: Services, input: Credentials) {
  const now = s.clock.now();
  const emailHash = await sha256Hex(`login:${input.email}`);
  const failures = await getLoginFailures(s.kv, emailHash, now, LOGIN_WINDOW_MS);
  if (failures && failures.count >= LOGIN_MAX_FAILURES) {
    throw new RateLimitedError(
      "Too many failed sign-in attempts for this email; try again later",
      (failures.firstAt + LOGIN_WINDOW_MS - now) / 1000,
    );
  }
  const dev = await getDeveloperByEmail(s.kv, input.email);
  // an unknown email costs the same hashing as a known one, so timing doesn't reveal accounts
  const ok = await verifyPassword(
    input.password,
    dev?.passwordHash ?? await dummyHash(s.config.passwordIterations),
  );
  if (!dev) throw await failed(s, emailHash, now);
  if (!ok) throw await failed(s, emailHash, now);
  await clearLoginFailures(s.kv, emailHash);
  return { developer: dev, sessionToken: await startSession(s, dev.id) };
}

let dummy: Promise<string> | null = null;
function dummyHash(iterations: number): Promise<string> {
  return dummy ??= hashPassword(crypto.randomUUID(), iterations);
}

async function failed(s: Services, emailHash: string, now: number) {
  await recordLoginFailure(s.kv, emailHash, now, LOGIN_WINDOW_MS);
  return new UnauthenticatedError("Email or password is wrong");
}

export async function logout(s: Services, sessionToken: string): Promise<void> {
  await deleteSession(s.kv, await sha256Hex(sessionToken));
}

/** The developer behind a session cookie value, or null. */
export async function developerForSession(s: Services, token: string): Promise<Developer | null> {
  const session = await getSession(s.kv, await sha256Hex(token), s.clock.now());
  return session ? getDeveloper(s.kv, session.developerId) : null;
}

/** The developer behind a `dat_…` token, or null. */
export async function developerForAccessToken(
  s: Services,
  token: string,
): Promise<Developer | null> {
  const t = await getAccessTokenByHash(s.kv, await sha256Hex(token));
  return t ? getDeveloper(s.kv, t.developerId) : null;
}

export const TokenInputSchema = z.object({ name: z.string().trim().min(1).max(100) });

/** The listed shape of a token: never its hash. */
export function publicToken(t: AccessToken) {
  return { id: t.id, name: t.name, prefix: t.prefix, createdAt: t.createdAt };
}

/** Creates an access token; the secret is in the answer once and only its hash is kept. */
export async function createToken(s: Services, developerId: string, name: string) {
  const secret = newAccessToken();
  const record: AccessToken = {
    id: `tok_${ulid(s.clock.now())}`,
    developerId,
    name,
    prefix: secret.slice(0, 10),
    hash: await sha256Hex(secret),
    createdAt: new Date(s.clock.now()).toISOString(),
  };
  await createAccessToken(s.kv, record);
  return { token: publicToken(record), secret };
}

export async function listTokens(s: Services, developerId: string) {
  return (await listAccessTokens(s.kv, developerId)).map(publicToken);
}

export async function revokeToken(s: Services, developerId: string, id: string): Promise<void> {
  if (!(await deleteAccessToken(s.kv, developerId, id))) {
    throw new NotFoundError(`No access token "${id}"`);
  }
}
