/** Each project's epoch: moved by every change other instances must see in their caches. */
export const projectEpochKeys = {
  byPk: (pk: string) => ["project_epochs", pk] as const,
};

/** Adds "the project changed" to a commit. */
export function bumpEpoch(op: Deno.AtomicOperation, pk: string): Deno.AtomicOperation {
  return op.sum(projectEpochKeys.byPk(pk), 1n);
}

export async function readEpoch(kv: Deno.Kv, pk: string): Promise<bigint> {
  const v = (await kv.get<Deno.KvU64>(projectEpochKeys.byPk(pk))).value;
  return v ? v.value : 0n;
}
