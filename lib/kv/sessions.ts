/** Dashboard sessions: stored by the SHA-256 of the cookie value, expiring in KV. */
export interface Session {
  developerId: string;
  createdAt: number;
  expiresAt: number;
  /** The developer's session epoch when it started (absent: 0). */
  epoch?: number;
}

export const sessionKeys = {
  byHash: (hash: string) => ["sessions", hash] as const,
};

export async function createSession(kv: Deno.Kv, hash: string, s: Session): Promise<void> {
  await kv.set(sessionKeys.byHash(hash), s, { expireIn: Math.max(1, s.expiresAt - s.createdAt) });
}

/** A live session, or null when unknown or past its expiry (KV expiry is lazy). */
export async function getSession(kv: Deno.Kv, hash: string, now: number): Promise<Session | null> {
  const s = (await kv.get<Session>(sessionKeys.byHash(hash))).value;
  return s && s.expiresAt > now ? s : null;
}

export async function deleteSession(kv: Deno.Kv, hash: string): Promise<void> {
  await kv.delete(sessionKeys.byHash(hash));
}
