/** Developer accounts: sign-up, sign-in with throttling, sessions and access tokens. */
import { z } from "zod";
import { Email } from "@/lib/schemas.ts";
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
import { clearLoginFailures, reserveLoginCheck } from "@/lib/kv/login_failures.ts";
import {
  ConflictError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
} from "@/lib/errors.ts";

export const CredentialsSchema = z.object({
  email: Email,
  password: z.string().min(8, "must be at least 8 characters").max(256),
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

export async function startSession(
  s: Services,
  developerId: string,
  epoch = 0,
): Promise<string> {
  const token = newSessionToken();
  const now = s.clock.now();
  await createSession(s.kv, await sha256Hex(token), {
    developerId,
    createdAt: now,
    expiresAt: now + s.config.sessionTtlMs,
    epoch,
  });
  return token;
}

/** What a sign-up answers when it can't create the account: the same whether or not it exists. */
const SIGNUP_REFUSED =
  "Cannot create an account with this email and password. If you have an account, sign in.";

/**
 * Creates a developer with a new platform id and starts a session (token returned once). An
 * email that has an account signs in when the password is its own (the same answer as a new
 * account); otherwise the answer says nothing about whether the account exists, costs the same
 * hashing, and counts as a failed password check of that account (so sign-up is no way around
 * the sign-in throttle).
 */
export async function signup(s: Services, input: Credentials) {
  const existing = await getDeveloperByEmail(s.kv, input.email);
  if (existing) {
    try {
      return await login(s, input);
    } catch (err) {
      if (err instanceof UnauthenticatedError) throw new ConflictError(SIGNUP_REFUSED);
      throw err;
    }
  }
  const passwordHash = await s.passwords.run(() =>
    hashPassword(input.password, s.config.passwordIterations)
  );
  let dev: Developer;
  try {
    dev = await createDeveloper(s.kv, {
      id: newPlatformId(),
      email: input.email,
      passwordHash,
      createdAt: new Date(s.clock.now()).toISOString(),
      connection: null,
      planStatus: "none",
    });
  } catch (err) {
    if (err instanceof ConflictError) throw new ConflictError(SIGNUP_REFUSED);
    throw err;
  }
  return { developer: dev, sessionToken: await startSession(s, dev.id) };
}

/**
 * Signs a developer in. Each password check is counted against the account before it is made
 * (atomically, whatever the concurrency): after `LOGIN_MAX_FAILURES` within `LOGIN_WINDOW_MS`
 * further attempts are 429 `rate_limited` until the window ends, right password or not. A
 * success starts the count afresh. Unknown emails cost the same hashing and are counted alike.
 */
export function login(s: Services, input: Credentials) {
  // the line for the hashing gate is joined first: waiting in it counts nothing
  return s.passwords.run(async () => {
    const now = s.clock.now();
    const emailHash = await sha256Hex(`login:${input.email}`);
    const waitMs = await s.locks.run(
      `login:${emailHash}`,
      () =>
        reserveLoginCheck(s.kv, emailHash, {
          now,
          windowMs: LOGIN_WINDOW_MS,
          max: LOGIN_MAX_FAILURES,
        }),
    );
    if (waitMs !== null) {
      throw new RateLimitedError(
        "Too many failed sign-in attempts for this email; try again later",
        waitMs / 1000,
      );
    }
    const dev = await getDeveloperByEmail(s.kv, input.email);
    const ok = await verifyPassword(
      input.password,
      dev?.passwordHash ?? await dummyHash(s.config.passwordIterations),
    );
    if (!dev || !ok) throw new UnauthenticatedError("Email or password is wrong");
    await clearLoginFailures(s.kv, emailHash);
    return { developer: dev, sessionToken: await startSession(s, dev.id, dev.sessionEpoch ?? 0) };
  });
}

let dummy: Promise<string> | null = null;
function dummyHash(iterations: number): Promise<string> {
  return dummy ??= hashPassword(crypto.randomUUID(), iterations);
}

/**
 * Sign-up and sign-in attempts per client address (`AUTH_RATE_LIMIT_PER_MINUTE`): password
 * hashing is CPU-bound, so one address can't keep the server busy with it.
 */
export function limitAuthAttempts(s: Services, clientAddress: string): void {
  const rate = s.config.authRateLimitPerMinute;
  const wait = s.rateLimiter.take(`auth:${clientAddress}`, rate, 60_000);
  if (wait > 0) {
    throw new RateLimitedError("Too many sign-in or sign-up attempts from this address", wait);
  }
}

export async function logout(s: Services, sessionToken: string): Promise<void> {
  await deleteSession(s.kv, await sha256Hex(sessionToken));
}

/** The developer behind a session cookie value, or null. */
export async function developerForSession(s: Services, token: string): Promise<Developer | null> {
  const session = await getSession(s.kv, await sha256Hex(token), s.clock.now());
  const dev = session ? await getDeveloper(s.kv, session.developerId) : null;
  // a session from before "sign out everywhere" (or a password change) no longer works
  return dev && (session!.epoch ?? 0) === (dev.sessionEpoch ?? 0) ? dev : null;
}

/** The developer behind a `dat_…` token, or null. */
export async function developerForAccessToken(
  s: Services,
  token: string,
): Promise<Developer | null> {
  return (await accessTokenOwner(s, token))?.developer ?? null;
}

/** The developer an access token belongs to, with the token's id (the actor of its actions). */
export async function accessTokenOwner(
  s: Services,
  token: string,
): Promise<{ developer: Developer; tokenId: string } | null> {
  const t = await getAccessTokenByHash(s.kv, await sha256Hex(token));
  const developer = t ? await getDeveloper(s.kv, t.developerId) : null;
  return developer ? { developer, tokenId: t!.id } : null;
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
