/**
 * Usage, log-structured. Each group commit of the meter appends one log row per project
 * (customer, period → quantity) under a checked per-project head; a fold moves log rows into the
 * per-customer counters later, off the acknowledgement path, under a checked watermark. A count
 * is its folded counter plus the log rows after the watermark.
 */
import { getManyChunked } from "@/lib/kv/_atomic.ts";
import {
  type Bucket,
  BUCKET_BYTES,
  bucketKeys,
  bucketOf,
  countKey,
  planBuckets,
  type TallySum,
} from "@/lib/kv/usage_buckets.ts";
import { IDEMPOTENCY_TTL_MS, type IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import { projectStatKeys } from "@/lib/kv/project_stats.ts";
import { dayKey, monthKey } from "@/lib/kv/time_keys.ts";

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
  /** Every log row up to this sequence number is in the counters (and deleted). */
  folded: (pk: string) => ["usage_folded", pk] as const,
};

/** A log line that says: this customer's usage was deleted; what follows counts from zero. */
export const resetLine = (customerId: string): LogLine => [customerId, "", 0];

/**
 * A log row as stored: the periods it names once, then flat (customer, period index, quantity)
 * triples — smaller and cheaper to serialise than an array of lines, which is what each commit
 * writes. Rows stored as plain arrays of lines are read too.
 */
type StoredRow = { p: string[]; l: (string | number)[] } | LogLine[];

function encodeRow(lines: LogLine[]): StoredRow {
  const periods: string[] = [];
  const flat: (string | number)[] = [];
  for (const [c, period, q] of lines) {
    let i = periods.indexOf(period);
    if (i < 0) i = periods.push(period) - 1;
    flat.push(c, i, q);
  }
  return { p: periods, l: flat };
}

function decodeRow(v: StoredRow): LogLine[] {
  if (Array.isArray(v)) return v;
  const out: LogLine[] = [];
  for (let i = 0; i < v.l.length; i += 3) {
    out.push([v.l[i] as string, v.p[v.l[i + 1] as number]!, v.l[i + 2] as number]);
  }
  return out;
}
export const isReset = (l: LogLine) => l[1] === "";

/**
 * Deletes a customer's usage counters and appends a reset line under the project's head, in
 * one commit that also checks every row is folded (the caller folds first): other instances
 * learn of it when they next catch up. Answers the new head's sequence and versionstamp, or null
 * when the head or the fold moved meanwhile (fold again and retry).
 */
export async function resetCustomerUsage(
  kv: Deno.Kv,
  pk: string,
  o: { customerId: string; at: { seq: number; versionstamp: string | null } },
): Promise<{ seq: number; versionstamp: string } | null> {
  const bucketKey = bucketKeys.bucket(pk, bucketOf(o.customerId));
  const [folded, bucket] = await kv.getMany<[number, Bucket]>([usageKeys.folded(pk), bucketKey]);
  if ((folded.value ?? 0) !== o.at.seq) return null;
  const keys: Deno.KvKey[] = [];
  for (
    const prefix of [
      usageKeys.byCustomer(pk, o.customerId),
      usageKeys.tallyByCustomer(pk, o.customerId),
    ]
  ) {
    for await (const e of kv.list({ prefix })) keys.push(e.key);
  }
  const seq = o.at.seq + 1;
  let op = kv.atomic()
    .check({ key: usageKeys.head(pk), versionstamp: o.at.versionstamp })
    .check(folded)
    // the watermark is set again (same value, new versionstamp): a fold that read the bucket
    // before this commit fails its check instead of writing the entries back
    .set(usageKeys.folded(pk), folded.value ?? 0)
    .set(usageKeys.head(pk), seq)
    .set(usageKeys.log(pk, seq), encodeRow([resetLine(o.customerId)]));
  if (bucket.value) {
    const prefix = countKey(o.customerId, "");
    const kept = Object.fromEntries(
      Object.entries(bucket.value).filter(([k]) => !k.startsWith(prefix)),
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
  const [head, folded] = await kv.getMany<[number, number]>([
    usageKeys.head(pk),
    usageKeys.folded(pk),
  ]);
  return {
    seq: head.value ?? 0,
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
      .set(usageKeys.head(r.pk), r.seq)
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

/** Deno KV allows 1000 mutations and 80 KiB of keys per commit; a fold stays under both. */
const FOLD_MUTATIONS = 900;
const FOLD_KEY_BYTES = 72 * 1024;

/** About the bytes a tally key takes encoded (ids are ASCII; each string part adds two). */
export const tallyKeyBytes = (pk: string, customerId: string, periodStart: string) =>
  20 + pk.length + customerId.length + periodStart.length;
/**
 * The meter keeps the tally keys of one log row under this many bytes, so that any single row
 * fits one fold commit (with its own deletion and the watermark).
 */
export const ROW_KEY_BYTES = 60 * 1024;

/** At most this many log rows per fold (the commit deletes them, beside the buckets it writes). */
const FOLD_MAX_ROWS = 600;
/**
 * By default, a window with fewer distinct keys than this is folded into per-key tallies (one
 * KvU64 sum each); from this many on, into the buckets, whose rewrite then costs less.
 */
const BUCKET_AT = 512;

/**
 * Folds the oldest log rows of a project into its counts in one commit checked on the
 * watermark (two folders never fold the same row): with many distinct keys the rows' quantities
 * are added to the tally buckets they touch (read, added to, rewritten: lib/kv/usage_buckets.ts)
 * or, for keys a full bucket has no room for, summed into per-key tallies; with few, all are
 * per-key tallies. The rows are deleted and the watermark moves to the last row. At most
 * `maxRows` rows, and no more than fit one commit (mutations and key bytes). `now` dates the
 * bucket entries old enough to move out. `held`: the log rows the caller holds (seq → lines), read
 * from there when it holds the one after the watermark (then as many as follow it in sequence),
 * not listed from the log. Answers the new watermark, or null when another folder
 * (or a usage reset) moved it first.
 */
export async function foldLog(
  kv: Deno.Kv,
  pk: string,
  o: {
    maxRows: number;
    now: number;
    bucketBytes?: number;
    bucketAt?: number;
    held?: ReadonlyMap<number, LogLine[]>;
  },
): Promise<number | null> {
  const mark = await kv.get<number>(usageKeys.folded(pk));
  const from = mark.value ?? 0;
  const limit = Math.max(1, Math.min(o.maxRows, FOLD_MAX_ROWS));
  const rows: { seq: number; lines: LogLine[] }[] = [];
  const whole = new WindowSums();
  // the rows after the watermark as the caller holds them (a meter holds the rows it committed
  // and caught up: log rows never change once written), else as the log lists them
  for (let seq = from + 1; o.held && rows.length < limit; seq++) {
    const lines = o.held.get(seq);
    if (!lines) break;
    rows.push({ seq, lines });
    whole.add(lines);
  }
  if (rows.length === 0) {
    const iter = kv.list<StoredRow>({
      prefix: usageKeys.listLog(pk),
      start: usageKeys.log(pk, from + 1),
    }, { limit, batchSize: 64 });
    // the whole window's sums are added up as its rows arrive (a list answers 64 rows at a
    // time), not in one go after: with thousands of customers that is ~10 ms of this thread
    for await (const e of iter) {
      const row = { seq: e.key[2] as number, lines: decodeRow(e.value) };
      rows.push(row);
      whole.add(row.lines);
    }
  }
  if (rows.length === 0) return from;
  const logKeyBytes = 40 + pk.length;
  // the whole window when it fits one commit, else its first half, and so on
  // (with old entries moved out of the buckets it touches, else without)
  const tries: [n: number, moves: boolean][] = [];
  for (let n = rows.length; n >= 1; n = Math.floor(n / 2)) tries.push([n, true], [n, false]);
  let sized = { n: rows.length, sums: whole.list }; // each size's sums serve both of its tries
  for (const [n, moves] of tries) {
    const window = rows.slice(0, n);
    if (sized.n !== n) sized = { n, sums: WindowSums.of(window) };
    const sums = sized.sums;
    let plan: { buckets: Map<number, Bucket>; tallies: TallySum[] };
    let room: number;
    if (sums.length < (o.bucketAt ?? BUCKET_AT)) {
      // few keys: a KvU64 sum each costs less than rewriting the buckets they fall in
      if (!moves) continue;
      plan = { buckets: new Map(), tallies: sums };
      room = FOLD_MUTATIONS - n - 1;
    } else {
      const byBucket = new Map<number, TallySum[]>();
      for (const t of sums) {
        const b = bucketOf(t.customerId);
        const list = byBucket.get(b);
        if (list) list.push(t);
        else byBucket.set(b, [t]);
      }
      const ids = [...byBucket.keys()];
      room = FOLD_MUTATIONS - n - ids.length - 1;
      // read for this plan, which changes them (another try reads them again), and planned ten
      // buckets at a time as they arrive: with thousands of customers, not one long task
      plan = { buckets: new Map(), tallies: [] };
      let movesLeft = moves ? Math.max(0, Math.min(room - sums.length, 200)) : 0;
      for (let i = 0; i < ids.length; i += 10) {
        const part = ids.slice(i, i + 10);
        const got = await kv.getMany<Bucket[]>(part.map((b) => bucketKeys.bucket(pk, b)));
        const planned = planBuckets(
          new Map(part.map((b, k) => [b, got[k]!.value ?? {}])),
          part.flatMap((b) => byBucket.get(b)!),
          { now: o.now, maxBytes: o.bucketBytes ?? BUCKET_BYTES, maxMoves: movesLeft },
        );
        for (const [b, v] of planned.buckets) plan.buckets.set(b, v);
        for (const t of planned.tallies) plan.tallies.push(t);
        movesLeft -= planned.moved;
      }
    }
    const keyBytes = plan.tallies.reduce(
      (sum, t) => sum + tallyKeyBytes(pk, t.customerId, t.periodStart),
      n * logKeyBytes + plan.buckets.size * (30 + pk.length),
    );
    if (plan.tallies.length > room || keyBytes > FOLD_KEY_BYTES) continue;
    const last = window[n - 1]!.seq;
    const op = kv.atomic().check(mark).set(usageKeys.folded(pk), last);
    for (const [b, v] of plan.buckets) op.set(bucketKeys.bucket(pk, b), v);
    for (const t of plan.tallies) {
      op.sum(usageKeys.tally(pk, t.customerId, t.periodStart), BigInt(t.q));
    }
    for (const r of window) op.delete(usageKeys.log(pk, r.seq));
    return (await op.commit()).ok ? last : null;
  }
  throw new Error("unreachable: one log row always fits a fold commit");
}

/** The sums of a window of rows per (customer, period), reset lines left out. */
class WindowSums {
  // by period, then customer: no key is built per line (a window holds tens of thousands)
  #byPeriod = new Map<string, Map<string, TallySum>>();
  readonly list: TallySum[] = [];

  static of(rows: { lines: LogLine[] }[]): TallySum[] {
    const sums = new WindowSums();
    for (const r of rows) sums.add(r.lines);
    return sums.list;
  }

  add(lines: LogLine[]) {
    for (const [customerId, periodStart, q] of lines) {
      if (periodStart === "") continue; // a reset line: nothing to add
      let sums = this.#byPeriod.get(periodStart);
      if (!sums) this.#byPeriod.set(periodStart, sums = new Map());
      const cur = sums.get(customerId);
      if (cur) cur.q += q;
      else {
        const t = { customerId, periodStart, q };
        sums.set(customerId, t);
        this.list.push(t);
      }
    }
  }
}

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
