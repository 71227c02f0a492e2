/** Developer access tokens (dat_…): listed per developer, found by hash. Secrets never stored. */
export interface AccessToken {
  id: string;
  developerId: string;
  name: string;
  /** First characters of the token, to recognise it in a list. */
  prefix: string;
  hash: string;
  createdAt: string;
}

export const accessTokenKeys = {
  byId: (developerId: string, id: string) => ["access_tokens", developerId, id] as const,
  list: (developerId: string) => ["access_tokens", developerId] as const,
  byHash: (hash: string) => ["access_tokens_by_hash", hash] as const,
};

export async function createAccessToken(kv: Deno.Kv, t: AccessToken): Promise<void> {
  const res = await kv.atomic()
    .check({ key: accessTokenKeys.byHash(t.hash), versionstamp: null })
    .set(accessTokenKeys.byId(t.developerId, t.id), t)
    .set(accessTokenKeys.byHash(t.hash), { developerId: t.developerId, id: t.id })
    .commit();
  if (!res.ok) throw new Error("access token hash collision");
}

export async function listAccessTokens(kv: Deno.Kv, developerId: string): Promise<AccessToken[]> {
  const out: AccessToken[] = [];
  for await (const e of kv.list<AccessToken>({ prefix: accessTokenKeys.list(developerId) })) {
    out.push(e.value);
  }
  return out;
}

export async function getAccessTokenByHash(kv: Deno.Kv, hash: string): Promise<AccessToken | null> {
  const ptr =
    (await kv.get<{ developerId: string; id: string }>(accessTokenKeys.byHash(hash))).value;
  if (!ptr) return null;
  return (await kv.get<AccessToken>(accessTokenKeys.byId(ptr.developerId, ptr.id))).value;
}

/** Deletes a token and its hash index together; false when it does not exist. */
export async function deleteAccessToken(
  kv: Deno.Kv,
  developerId: string,
  id: string,
): Promise<boolean> {
  const cur = await kv.get<AccessToken>(accessTokenKeys.byId(developerId, id));
  if (!cur.value) return false;
  await kv.atomic().check(cur).delete(cur.key).delete(accessTokenKeys.byHash(cur.value.hash))
    .commit();
  return true;
}

/** Deletes every token of a developer with their hash indexes (account deletion). */
export async function deleteAllAccessTokens(kv: Deno.Kv, developerId: string): Promise<number> {
  const tokens = await listAccessTokens(kv, developerId);
  for (let i = 0; i < tokens.length; i += 100) {
    let op = kv.atomic();
    for (const t of tokens.slice(i, i + 100)) {
      op = op.delete(accessTokenKeys.byId(developerId, t.id)).delete(
        accessTokenKeys.byHash(t.hash),
      );
    }
    await op.commit();
  }
  return tokens.length;
}
