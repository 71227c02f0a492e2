/**
 * Folding the usage log (lib/kv/usage.ts) into the counts: a window of the oldest rows is added
 * to the tally buckets or per-key tallies in one commit checked on the watermark, then deleted.
 */
import {
  type Bucket,
  BUCKET_BYTES,
  bucketKeys,
  bucketOf,
  planBuckets,
  type TallySum,
} from "@/lib/kv/usage_buckets.ts";
import {
  decodeRow,
  type LogLine,
  type StoredRow,
  tallyKeyBytes,
  usageKeys,
} from "@/lib/kv/usage.ts";

/** Deno KV allows 1000 mutations and 80 KiB of keys per commit; a fold stays under both. */
const FOLD_MUTATIONS = 900;
const FOLD_KEY_BYTES = 72 * 1024;

/**
 * At most this many log rows per fold. The fold commit writes the buckets and tallies and moves
 * the watermark; the rows it folded are deleted after it, in commits of `DELETES_PER_COMMIT`
 * (rows at or below the watermark are never read again), so a fold's window isn't bounded by a
 * commit's 1 000 mutations and a bucket rewrite serves more rows.
 */
const FOLD_MAX_ROWS = 2400;
const DELETES_PER_COMMIT = 200;
/** A macrotask's pause: a fold's long loops let the answers waiting meanwhile go first. */
const pause = () => new Promise<void>((r) => setTimeout(r, 0));
/**
 * How long a fold works between two pauses (ms). Under load every call in flight waits for the
 * stretch running when its answer is due, so stretches of a few milliseconds, a dozen a fold,
 * reach the 99th percentile of latency (measured with 10 000 customers: planning ten buckets
 * took 1 – 3 ms). Measured by the clock, not counted in items, so that a small fold (a usage
 * reset's, a few rows) pauses as seldom as its work allows: a pause takes ~2 ms of wall time.
 */
const SLICE_MS = 0.3;

/** A fold's work in slices of `SLICE_MS`: `due()` says when to `pause()`. */
class Slices {
  #since = performance.now();
  due(): boolean {
    return performance.now() - this.#since >= SLICE_MS;
  }
  async pause(): Promise<void> {
    await pause();
    this.restart();
  }
  /** After an await (other work ran meanwhile): a new slice starts. */
  restart(): void {
    this.#since = performance.now();
  }
}
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
 * per-key tallies. The watermark moves to the last row, then the rows are deleted. At most
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
  const slices = new Slices();
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
    if (slices.due()) await slices.pause();
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
      if (slices.due()) await slices.pause();
    }
  }
  if (rows.length === 0) return from;
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
      room = FOLD_MUTATIONS - 1;
    } else {
      const byBucket = new Map<number, TallySum[]>();
      for (const t of sums) {
        if (slices.due()) await slices.pause();
        const b = bucketOf(t.customerId);
        const list = byBucket.get(b);
        if (list) list.push(t);
        else byBucket.set(b, [t]);
      }
      const ids = [...byBucket.keys()];
      room = FOLD_MUTATIONS - ids.length - 1;
      // read for this plan, which changes them (another try reads them again), ten at a time,
      // and planned a slice at a time: with thousands of customers, not one long task
      plan = { buckets: new Map(), tallies: [] };
      let movesLeft = moves ? Math.max(0, Math.min(room - sums.length, 200)) : 0;
      for (let i = 0; i < ids.length; i += 10) {
        const part = ids.slice(i, i + 10);
        const got = await kv.getMany<Bucket[]>(part.map((b) => bucketKeys.bucket(pk, b)));
        slices.restart();
        for (let j = 0; j < part.length; j++) {
          if (slices.due()) await slices.pause();
          const bucket = part[j]!;
          const planned = planBuckets(
            new Map([[bucket, got[j]!.value ?? {}]]),
            byBucket.get(bucket)!,
            { now: o.now, maxBytes: o.bucketBytes ?? BUCKET_BYTES, maxMoves: movesLeft },
          );
          for (const [b, v] of planned.buckets) plan.buckets.set(b, v);
          for (const t of planned.tallies) plan.tallies.push(t);
          movesLeft -= planned.moved;
        }
      }
    }
    const keyBytes = plan.tallies.reduce(
      (sum, t) => sum + tallyKeyBytes(pk, t.customerId, t.periodStart),
      plan.buckets.size * (30 + pk.length),
    );
    if (plan.tallies.length > room || keyBytes > FOLD_KEY_BYTES) continue;
    const last = window[n - 1]!.seq;
    const op = kv.atomic().check(mark).set(usageKeys.folded(pk), last);
    for (const [b, v] of plan.buckets) {
      op.set(bucketKeys.bucket(pk, b), v); // serialised here: ~0.1 ms a full bucket
      if (slices.due()) await slices.pause();
    }
    for (const t of plan.tallies) {
      op.sum(usageKeys.tally(pk, t.customerId, t.periodStart), BigInt(t.q));
    }
    if (!(await op.commit()).ok) return null;
    try {
      await deleteLogRows(kv, pk, window.map((r) => r.seq));
    } catch {
      // the fold stands; rows left at or below the watermark are read by nothing, and the next
      // process's first fold sweeps them
    }
    return last;
  }
  throw new Error("unreachable: one log row always fits a fold commit");
}

/** Deletes folded log rows (at or below the watermark: nothing reads them any more). */
async function deleteLogRows(kv: Deno.Kv, pk: string, seqs: number[]): Promise<void> {
  for (let i = 0; i < seqs.length; i += DELETES_PER_COMMIT) {
    if (i > 0) await pause(); // the batch commits waiting meanwhile go between
    const op = kv.atomic();
    for (const seq of seqs.slice(i, i + DELETES_PER_COMMIT)) op.delete(usageKeys.log(pk, seq));
    await op.commit();
  }
}

/**
 * Deletes the log rows a fold left behind (folded, then the process stopped before deleting
 * them): every row at or below the watermark. Answers how many it deleted.
 */
export async function sweepFoldedRows(kv: Deno.Kv, pk: string): Promise<number> {
  const mark = (await kv.get<number>(usageKeys.folded(pk))).value ?? 0;
  const seqs: number[] = [];
  const iter = kv.list<StoredRow>({
    prefix: usageKeys.listLog(pk),
    end: usageKeys.log(pk, mark + 1),
  }, { batchSize: 100 });
  for await (const e of iter) seqs.push(e.key[2] as number);
  await deleteLogRows(kv, pk, seqs);
  return seqs.length;
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
