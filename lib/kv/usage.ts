/**
 * Usage, log-structured. Each group commit of the meter appends one log row per project
 * (customer, period → quantity) under a checked per-project head; a fold moves log rows into the
 * per-customer counters later, off the acknowledgement path, under a checked watermark. A count
 * is its folded counter plus the log rows after the watermark.
 */
import { getManyChunked } from "@/lib/kv/_atomic.ts";
import { type Bucket, bucketKeys, bucketOf, countKey } from "@/lib/kv/usage_buckets.ts";
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { dayKey, monthKey } from "@/lib/kv/time_keys.ts";
import { fromJsonBytes, jsonBytes, seqOf, seqValue } from "@/lib/kv/_bytes.ts";

/** One log line: this customer used `quantity` more in the period starting `periodStart`. */
export type LogLine = [customerId: string, periodStart: string, quantity: number];

export const usageKeys = {
  /** `periodKey` is the period start as an ISO string, so a prefix scan is a time series. */
  counter: (pk: string, customerId: string, periodKey: string) =>
    ["usage", pk, customerId, periodKey] as const,
  byCustomer: (pk: string, customerId: string) => ["usage", pk, customerId] as const,
  /** What folds added to a counter (a KvU64 summed by each fold, so a fold reads nothing). */
  tally: (pk: string, customerId: string, periodKey: string) =>
    ["usage_tally", pk, customerId, periodKey] as const,
  tallyByCustomer: (pk: string, customerId: string) => ["usage_tally", pk, customerId] as const,
  /** The sequence number of the project's last log row; every append checks it. */
  head: (pk: string) => ["usage_head", pk] as const,
  /** Log rows not folded yet, in sequence order. */
  log: (pk: string, seq: number) => ["usage_log", pk, seq] as const,
  listLog: (pk: string) => ["usage_log", pk] as const,
  /**
   * Every log row up to this sequence number is in the counters (and deleted, or about to be:
   * the fold deletes them after its commit, and a row left by a stopped process is swept later).
   */
  folded: (pk: string) => ["usage_folded", pk] as const,
};

/** A log line that says: this customer's usage was deleted; what follows counts from zero. */
export const resetLine = (customerId: string): LogLine => [customerId, "", 0];

/** A log row's content: the periods it names once, then flat (customer, period index, quantity). */
type PackedRow = { p: string[]; l: (string | number)[] };
/**
 * A log row as stored: a `PackedRow` as JSON bytes (lib/kv/_bytes.ts: each commit writes one, and
 * V8's serialiser would cost this thread several times more). Rows written before as a
 * V8-serialised `PackedRow` or plain array of lines are read too.
 */
export type StoredRow = Uint8Array | PackedRow | LogLine[];

function encodeRow(lines: LogLine[]): Uint8Array {
  const periods: string[] = [];
  const flat: (string | number)[] = [];
  for (const [c, period, q] of lines) {
    let i = periods.indexOf(period);
    if (i < 0) i = periods.push(period) - 1;
    flat.push(c, i, q);
  }
  return jsonBytes({ p: periods, l: flat } satisfies PackedRow);
}

export function decodeRow(stored: StoredRow): LogLine[] {
  const v = stored instanceof Uint8Array ? fromJsonBytes(stored) as PackedRow : stored;
  if (Array.isArray(v)) return v;
  const out: LogLine[] = [];
  for (let i = 0; i < v.l.length; i += 3) {
    out.push([v.l[i] as string, v.p[v.l[i + 1] as number]!, v.l[i + 2] as number]);
  }
  return out;
}
export const isReset = (l: LogLine) => l[1] === "";

/**
 * Deletes a customer's usage counters (one period's, or all) and appends a reset line under the
 * project's head, in one commit that also checks every row is folded (the caller folds first):
 * other instances learn of it when they next catch up, and read the customer's counts again.
 * Answers the new head's sequence and versionstamp, or null when the head or the fold moved
 * meanwhile (fold again and retry).
 */
export async function resetCustomerUsage(
  kv: Deno.Kv,
  pk: string,
  o: {
    customerId: string;
    /** only this period's count (a usage reset); every period when left out (a deletion) */
    periodStart?: string;
    at: { seq: number; versionstamp: string | null };
  },
): Promise<{ seq: number; versionstamp: string } | null> {
  const bucketKey = bucketKeys.bucket(pk, bucketOf(o.customerId));
  const [folded, bucket] = await kv.getMany<[number, Bucket]>([usageKeys.folded(pk), bucketKey]);
  if ((folded.value ?? 0) !== o.at.seq) return null;
  const keys: Deno.KvKey[] = [];
  const start = o.periodStart;
  if (start !== undefined) {
    keys.push(
      usageKeys.counter(pk, o.customerId, start),
      usageKeys.tally(pk, o.customerId, start),
    );
  } else {
    for (
      const prefix of [
        usageKeys.byCustomer(pk, o.customerId),
        usageKeys.tallyByCustomer(pk, o.customerId),
      ]
    ) {
      for await (const e of kv.list({ prefix })) keys.push(e.key);
    }
  }
  const seq = o.at.seq + 1;
  let op = kv.atomic()
    .check({ key: usageKeys.head(pk), versionstamp: o.at.versionstamp })
    .check(folded)
    // the watermark is set again (same value, new versionstamp): a fold that read the bucket
    // before this commit fails its check instead of writing the entries back
    .set(usageKeys.folded(pk), folded.value ?? 0)
    .set(usageKeys.head(pk), seqValue(seq))
    .set(usageKeys.log(pk, seq), encodeRow([resetLine(o.customerId)]));
  if (bucket.value) {
    const prefix = countKey(o.customerId, start ?? "");
    const kept = Object.fromEntries(
      Object.entries(bucket.value).filter(([k]) =>
        start === undefined ? !k.startsWith(prefix) : k !== prefix
      ),
    );
    op = op.set(bucketKey, kept);
  }
  for (const key of keys.slice(0, 900)) op = op.delete(key);
  const res = await op.commit();
  return res.ok ? { seq, versionstamp: res.versionstamp } : null;
}

/** A project's log position: head (sequence and versionstamp) and fold watermark, read together. */
export async function readLogPosition(
  kv: Deno.Kv,
  pk: string,
): Promise<{ seq: number; versionstamp: string | null; folded: number }> {
  const [head, folded] = await kv.getMany<[unknown, number]>([
    usageKeys.head(pk),
    usageKeys.folded(pk),
  ]);
  return {
    seq: seqOf(head.value),
    versionstamp: head.versionstamp,
    folded: folded.value ?? 0,
  };
}

/** The log rows after `afterSeq` up to `uptoSeq` (inclusive), in order. */
export async function readLog(
  kv: Deno.Kv,
  pk: string,
  range: { afterSeq: number; uptoSeq: number },
): Promise<{ seq: number; lines: LogLine[] }[]> {
  const out: { seq: number; lines: LogLine[] }[] = [];
  if (range.uptoSeq <= range.afterSeq) return out;
  const iter = kv.list<StoredRow>({
    start: usageKeys.log(pk, range.afterSeq + 1),
    end: usageKeys.log(pk, range.uptoSeq + 1),
  });
  for await (const e of iter) out.push({ seq: e.key[2] as number, lines: decodeRow(e.value) });
  return out;
}

const u64 = (v: unknown) => (v instanceof Deno.KvU64 ? Number(v.value) : 0);

/**
 * Folded counts (the counter, plus what folds added: the per-key tally and the bucket entry)
 * with the watermark they are folded to, read in consistent groups of three keys and the
 * watermark (a fold between two groups is seen by the second only).
 */
export async function readCounters(
  kv: Deno.Kv,
  pk: string,
  keys: { customerId: string; periodStart: string }[],
): Promise<{ value: number; folded: number }[]> {
  const out: { value: number; folded: number }[] = [];
  for (let i = 0; i < keys.length; i += 3) {
    const group = keys.slice(i, i + 3);
    const got = await kv.getMany<unknown[]>([
      usageKeys.folded(pk),
      ...group.flatMap((k) => [
        usageKeys.counter(pk, k.customerId, k.periodStart),
        usageKeys.tally(pk, k.customerId, k.periodStart),
        bucketKeys.bucket(pk, bucketOf(k.customerId)),
      ]),
    ]);
    const folded = (got[0]!.value as number | null) ?? 0;
    group.forEach((k, j) => {
      const counter = (got[1 + 3 * j]!.value as number | null) ?? 0;
      const bucket = got[3 + 3 * j]!.value as Bucket | null;
      const entry = bucket?.[countKey(k.customerId, k.periodStart)] ?? 0;
      out.push({ value: counter + u64(got[2 + 3 * j]!.value) + entry, folded });
    });
  }
  return out;
}

/** Idempotency records of one batch (chunks of 10). */
export function readIdempotency(kv: Deno.Kv, keys: Deno.KvKey[]) {
  return getManyChunked<IdempotencyRecord>(kv, keys);
}

/**
 * One group commit of the meter: per project a log row under its checked head, the new
 * idempotency records (which must not exist yet), and the daily and monthly sums. Answers the
 * commit's versionstamp, or null when another writer got there first.
 */
export async function commitUsageBatch(
  kv: Deno.Kv,
  o: {
    rows: { pk: string; seq: number; headVersionstamp: string | null; lines: LogLine[] }[];
    claims: { key: Deno.KvKey; record: IdempotencyRecord }[];
    now: number;
  },
): Promise<string | null> {
  let op = kv.atomic();
  for (const r of o.rows) {
    op = op.check({ key: usageKeys.head(r.pk), versionstamp: r.headVersionstamp })
      .set(usageKeys.head(r.pk), seqValue(r.seq))
      .set(usageKeys.log(r.pk, r.seq), encodeRow(r.lines));
    const q = r.lines.reduce((sum, l) => sum + l[2], 0);
    op = op.sum(projectStatKeys.usageMonth(r.pk, monthKey(o.now)), BigInt(q))
      .sum(projectStatKeys.usageDay(r.pk, dayKey(o.now)), BigInt(q));
  }
  for (const cl of o.claims) {
    op = op.check({ key: cl.key, versionstamp: null }).set(cl.key, cl.record, {
      expireIn: IDEMPOTENCY_TTL_MS,
    });
  }
  const res = await op.commit();
  return res.ok ? res.versionstamp : null;
}

/** About the bytes a tally key takes encoded (ids are ASCII; each string part adds two). */
export const tallyKeyBytes = (pk: string, customerId: string, periodStart: string) =>
  20 + pk.length + customerId.length + periodStart.length;
/**
 * The meter keeps the tally keys of one log row under this many bytes, so that any single row
 * fits one fold commit (with the watermark).
 */
export const ROW_KEY_BYTES = 60 * 1024;

/** A customer's folded count for a period (counter, tally, bucket entry): what is stored. */
export async function foldedCount(
  kv: Deno.Kv,
  pk: string,
  o: { customerId: string; periodStart: string },
): Promise<number> {
  return (await readCounters(kv, pk, [o]))[0]!.value;
}

/** The starts of a customer's latest `limit` periods with a stored count, newest first. */
export async function customerPeriodStarts(
  kv: Deno.Kv,
  pk: string,
  o: { customerId: string; limit: number },
): Promise<string[]> {
  const starts = new Set<string>();
  for (
    const prefix of [
      usageKeys.byCustomer(pk, o.customerId),
      usageKeys.tallyByCustomer(pk, o.customerId),
    ]
  ) {
    for await (const e of kv.list({ prefix }, { reverse: true, limit: o.limit })) {
      starts.add(e.key[3] as string);
    }
  }
  const bucket = await kv.get<Bucket>(bucketKeys.bucket(pk, bucketOf(o.customerId)));
  const prefix = countKey(o.customerId, "");
  for (const k of Object.keys(bucket.value ?? {})) {
    if (k.startsWith(prefix)) starts.add(k.slice(prefix.length));
  }
  return [...starts].sort().reverse().slice(0, o.limit);
}
