/**
 * The usage meter: exact, durable counting at the cost of one commit per batch, whatever the
 * number of customers.
 *
 * Every `track()` call joins a queue; one drain loop takes as many queued calls as fit one
 * Deno KV commit, decides each in arrival order against the counts this instance holds, and
 * appends one log row per project (customer, period → quantity) under a check of the project's
 * head row (lib/kv/usage.ts). Callers are answered only after that commit is durable, so an
 * acknowledged count is never lost. Another instance that appended meanwhile makes the check
 * fail: this one reads the log rows it missed, and decides the batch again — so no limit is
 * passed with several instances on one KV. When every call of the next batch can be decided on
 * what is held (the common case), its commit is sent as soon as the previous one lands, before
 * that one's callers are answered, as the ceiling does: KV is not left idle while answers are
 * written. The log is folded into per-customer counters later, a few dozen rows per commit,
 * off the acknowledgement path; a count is its folded counter plus the log rows after the fold
 * watermark.
 *
 * The counts held here are exact as of the project's head this instance knows. Reads trust them
 * while that head was confirmed less than `ttlMs` ago (one head read per project per interval,
 * never one read per counter); another instance's increments show within that time.
 */
import { ConflictError } from "@/lib/errors.ts";
import { idempotencyKeys, type IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import {
  commitUsageBatch,
  foldLog,
  type LogLine,
  readCounters,
  readIdempotency,
  readLog,
  readLogPosition,
  resetCustomerUsage,
} from "@/lib/kv/usage.ts";
import { countKey, parseCountKey } from "@/lib/kv/usage_buckets.ts";
import type { Period } from "@/lib/period.ts";
import {
  decideBatch,
  type Pending,
  type ProjectState,
  takeBatch,
  type TrackOutcome,
  type TrackRequest,
} from "@/lib/usage/decide.ts";

export { usageJson, type UsageView, usageView } from "@/lib/usage/view.ts";
export type { TrackOutcome, TrackRequest } from "@/lib/usage/decide.ts";

const MAX_ATTEMPTS = 25;
const NO_RECORDS = new Map<string, IdempotencyRecord | null>();

type Row = { pk: string; seq: number; headVersionstamp: string | null; lines: LogLine[] };
/** A batch decided, its commit sent, its callers not answered yet. */
interface InFlight {
  batch: Pending[];
  outcomes: TrackOutcome[];
  rows: Row[];
  now: number;
  started: number;
  /** the commit's versionstamp, null when another writer got there first */
  commit: Promise<string | null>;
}
const MAX_CACHED = 200_000;
/** By default, fold once this many log rows of a project are known unfolded. */
const FOLD_AT = 256;

export class UsageMeter {
  #kv: Deno.Kv;
  #now: () => number;
  #ttlMs: number;
  #foldRows: number;
  /** What folds are told of the tally buckets (see the constructor). */
  #bucketOpt: { bucketBytes?: number; bucketAt?: number };
  #projects = new Map<string, ProjectState>();
  #cached = 0;
  #queue: Pending[] = [];
  #draining = false;
  /** The fold in flight, if any: folds run beside the batch commits, one at a time. */
  #folding: Promise<void> | null = null;
  /** Batch commits made, for tests and the benchmark (folds not counted). */
  commits = 0;
  /** Told each committed batch's size and commit time (ms), for /metrics; none by default. */
  onBatch: ((size: number, ms: number) => void) | null = null;

  /**
   * `ttlMs`: how old a confirmed head reads may answer from; `foldRows`: how many unfolded log
   * rows of a project make the meter fold (beside the batch commits); `bucketAt`: from how many
   * distinct keys in its window a fold writes the tally buckets; `bucketBytes` (tests): a smaller
   * bucket, so that folds spill.
   */
  constructor(
    kv: Deno.Kv,
    now: () => number,
    o: { ttlMs?: number; foldRows?: number; bucketBytes?: number; bucketAt?: number } = {},
  ) {
    this.#kv = kv;
    this.#now = now;
    this.#ttlMs = o.ttlMs ?? 0;
    this.#foldRows = o.foldRows ?? FOLD_AT;
    this.#bucketOpt = {
      ...(o.bucketBytes ? { bucketBytes: o.bucketBytes } : {}),
      ...(o.bucketAt ? { bucketAt: o.bucketAt } : {}),
    };
  }

  /** Counts `quantity` for a customer unless it would pass the limit; resolves after commit. */
  track(req: TrackRequest): Promise<TrackOutcome> {
    const idemKey = req.idempotency ? idempotencyKeys.byKey(req.pk, req.idempotency.key) : null;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        req,
        ck: countKey(req.customerId, req.period.start),
        idemKey,
        ik: idemKey ? JSON.stringify(idemKey) : null,
        resolve,
        reject,
      });
      if (!this.#draining) this.#drain();
    });
  }

  /** The count when its project's head was confirmed less than `ttlMs` ago (no KV read). */
  peekCached(pk: string, customerId: string, period: Period): number | undefined {
    const st = this.#projects.get(pk);
    if (!st || this.#now() - st.checkedAt >= this.#ttlMs) return undefined;
    return st.counts.get(countKey(customerId, period.start));
  }

  /** The current count of a customer's period: the head is confirmed first when it is old. */
  async peek(pk: string, customerId: string, period: Period): Promise<number> {
    const hit = this.peekCached(pk, customerId, period);
    if (hit !== undefined) return hit;
    const st = await this.#state(pk);
    if (this.#now() - st.checkedAt >= this.#ttlMs) await this.#catchUp(pk, st);
    const ck = countKey(customerId, period.start);
    await this.#load(pk, [ck]);
    return this.#projects.get(pk)!.counts.get(ck) ?? 0;
  }

  /**
   * Deletes a customer's usage (customer deletion): every row is folded, the counters go and a
   * reset line is appended under the head, so every instance drops what it holds for the
   * customer when it next catches up; later usage counts from zero.
   */
  async resetCustomer(pk: string, customerId: string): Promise<void> {
    const st = await this.#state(pk);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      await this.flush(pk);
      const pos = await readLogPosition(this.#kv, pk);
      const done = await resetCustomerUsage(this.#kv, pk, {
        customerId,
        at: { seq: pos.seq, versionstamp: pos.versionstamp },
      });
      if (done) {
        await this.#catchUp(pk, st); // takes the reset line like any other
        return;
      }
    }
    throw new ConflictError("Cannot delete the usage: too many concurrent changes, try again");
  }

  #forgetCustomer(st: ProjectState, customerId: string) {
    const prefix = countKey(customerId, "");
    for (const k of st.counts.keys()) {
      if (k.startsWith(prefix)) {
        st.counts.delete(k);
        this.#cached--;
      }
    }
  }

  /** Folds every log row of the projects this instance has met (shutdown, tests, deletion). */
  async flush(pk?: string): Promise<void> {
    await this.#folding;
    for (const p of pk ? [pk] : [...this.#projects.keys()]) {
      for (let i = 0; i < 10_000; i++) {
        const pos = await readLogPosition(this.#kv, p);
        if (pos.folded >= pos.seq) break;
        await foldLog(this.#kv, p, { maxRows: 256, now: this.#now(), ...this.#bucketOpt });
      }
    }
  }

  async #state(pk: string): Promise<ProjectState> {
    let st = this.#projects.get(pk);
    if (!st) {
      st = {
        seq: 0,
        versionstamp: null,
        folded: 0,
        rows: new Map(),
        gained: null,
        counts: new Map(),
        checkedAt: -Infinity,
        catching: null,
      };
      this.#projects.set(pk, st);
      await this.#catchUp(pk, st);
    }
    return st;
  }

  /**
   * Brings a project's state to the head in KV: the rows appended elsewhere are read and added
   * to the counts held. If they were folded away meanwhile, the counts are dropped (read again).
   * One catch-up per project at a time: concurrent callers wait for the one in flight.
   */
  #catchUp(pk: string, st: ProjectState): Promise<void> {
    st.catching ??= this.#readAhead(pk, st).finally(() => {
      st.catching = null;
    });
    return st.catching;
  }

  async #readAhead(pk: string, st: ProjectState): Promise<void> {
    const pos = await readLogPosition(this.#kv, pk);
    // a commit of ours landed after that read: what we hold is newer, nothing to learn
    if (pos.seq < st.seq) return;
    if (pos.versionstamp !== st.versionstamp || pos.seq !== st.seq) {
      const from = Math.max(st.seq, pos.folded);
      const rows = await readLog(this.#kv, pk, { afterSeq: from, uptoSeq: pos.seq });
      // rows folded (and deleted) by another instance after the position was read are missing:
      // then the counts held can't be brought forward, and are read again instead
      const complete = rows.length === pos.seq - from &&
        rows.every((r, i) => r.seq === from + i + 1);
      const lost = pos.folded > st.seq || !complete;
      if (lost) {
        this.#cached -= st.counts.size;
        st.counts.clear();
        st.rows.clear();
        st.gained = null;
      }
      // a commit of ours that landed while reading has applied its own row already
      const applied = lost ? from : st.seq;
      for (const r of rows) {
        st.rows.set(r.seq, r.lines);
        if (r.seq <= applied) continue;
        for (const [c, p, q] of r.lines) {
          if (p === "") {
            this.#forgetCustomer(st, c); // a reset line
            continue;
          }
          const k = countKey(c, p);
          const cur = st.counts.get(k);
          if (cur !== undefined) st.counts.set(k, cur + q);
        }
      }
      if (pos.seq >= st.seq) {
        st.seq = pos.seq;
        st.versionstamp = pos.versionstamp;
      }
    }
    this.#forgetFolded(st, pos.folded);
    st.checkedAt = this.#now();
  }

  #forgetFolded(st: ProjectState, folded: number) {
    if (folded <= st.folded) return;
    st.folded = folded;
    for (const seq of st.rows.keys()) if (seq <= folded) st.rows.delete(seq);
    st.gained = null;
  }

  /** What each key gained in the rows held: indexed once per row, not once per load. */
  #gainedIn(st: ProjectState): Map<string, [seq: number, q: number][]> {
    const g = st.gained ??= { seqs: new Set(), byKey: new Map() };
    // rows are only added between resets of the index: equal sizes mean all are indexed
    if (g.seqs.size === st.rows.size) return g.byKey;
    for (const [seq, lines] of st.rows) {
      if (g.seqs.has(seq)) continue;
      g.seqs.add(seq);
      for (const [c, p, q] of lines) {
        const k = countKey(c, p);
        const list = g.byKey.get(k);
        if (list) list.push([seq, q]);
        else g.byKey.set(k, [[seq, q]]);
      }
    }
    return g.byKey;
  }

  /** Loads counts not held yet: folded counter + the known log rows after its watermark. */
  async #load(pk: string, keys: string[]): Promise<void> {
    const st = this.#projects.get(pk)!;
    const missing = [...new Set(keys)].filter((k) => !st.counts.has(k));
    if (missing.length === 0) return;
    const parts = missing.map(parseCountKey);
    const read = await readCounters(this.#kv, pk, parts);
    if (read.some((r) => r.folded > st.seq)) {
      // folded past the head we know: catch up first, then read again
      await this.#catchUp(pk, st);
      return this.#load(pk, keys);
    }
    if (read.some((r) => r.folded < st.folded)) {
      // a fold landed while reading: the rows between are no longer held, read again
      return this.#load(pk, keys);
    }
    if (this.#cached > MAX_CACHED) this.#evict();
    const gained = this.#gainedIn(st);
    missing.forEach((k, i) => {
      const r = read[i]!;
      let count = r.value;
      for (const [seq, q] of gained.get(k) ?? []) if (seq > r.folded) count += q;
      st.counts.set(k, count);
      this.#cached++;
    });
  }

  #evict() {
    for (const st of this.#projects.values()) st.counts.clear();
    this.#cached = 0;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      // a batch whose commit is out (decided with no await: the common case), else null
      let flight: InFlight | null = null;
      while (flight || this.#queue.length > 0) {
        if (!flight) {
          const batch = this.#take();
          flight = this.#startSync(batch);
          if (!flight) {
            try {
              await this.#decideAndCommit(batch);
            } catch (err) {
              for (const p of batch) p.reject(err);
            }
            this.#foldSoon();
            continue;
          }
        }
        const done: InFlight = flight;
        flight = null;
        let versionstamp: string | null;
        try {
          versionstamp = await done.commit;
        } catch (err) {
          for (const p of done.batch) p.reject(err);
          continue;
        }
        if (done.rows.length > 0) {
          this.commits++;
          this.onBatch?.(done.batch.length, performance.now() - done.started);
        }
        if (versionstamp === null) {
          // another instance appended first: the slow path catches up and decides again
          try {
            for (const r of done.rows) await this.#catchUp(r.pk, this.#projects.get(r.pk)!);
            await this.#decideAndCommit(done.batch);
          } catch (err) {
            for (const p of done.batch) p.reject(err);
          }
          continue;
        }
        this.#applyCommitted(done.rows, versionstamp, done.now);
        // the next batch's commit goes out before this batch's answers are written, so that
        // KV works on it meanwhile
        if (this.#queue.length > 0) {
          const batch = this.#take();
          flight = this.#startSync(batch);
          if (!flight) this.#queue = batch.concat(this.#queue); // the slow path takes it
        }
        done.batch.forEach((p, i) => p.resolve(done.outcomes[i]!));
        this.#foldSoon();
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Starts a fold beside the next batches, not between them: a fold never delays an answer. */
  #foldSoon() {
    this.#folding ??= this.#foldIfDue().catch(() => {
      // a failed fold is retried after a later batch; the rows stay in the log meanwhile
    }).finally(() => {
      this.#folding = null;
    });
  }

  /**
   * Decides a batch and sends its commit without an await, when every call's project state is
   * fresh, its count held and no call has an idempotency key (the common case); else null, and
   * the slow path (`#decideAndCommit`) decides it. A batch that counts nothing is answered here.
   */
  #startSync(batch: Pending[]): InFlight | null {
    const now = this.#now();
    for (const p of batch) {
      if (p.idemKey) return null;
      const st = this.#projects.get(p.req.pk);
      if (!st || st.catching || now - st.checkedAt >= this.#ttlMs || !st.counts.has(p.ck)) {
        return null;
      }
    }
    const { outcomes, lines } = decideBatch(batch, {
      held: (pk, ck) => this.#projects.get(pk)!.counts.get(ck)!,
      existing: NO_RECORDS,
      now,
    });
    const rows = this.#rowsOf(lines);
    const commit = rows.length === 0
      ? Promise.resolve("") // nothing to append
      : commitUsageBatch(this.#kv, { rows, claims: [], now });
    return { batch, outcomes, rows, now, started: performance.now(), commit };
  }

  /** The log rows to append for a batch's lines, each after its project's head. */
  #rowsOf(lines: Map<string, Map<string, LogLine>>): Row[] {
    return [...lines].map(([pk, perKey]) => {
      const st = this.#projects.get(pk)!;
      return {
        pk,
        seq: st.seq + 1,
        headVersionstamp: st.versionstamp,
        lines: [...perKey.values()],
      };
    });
  }

  /** A committed batch's rows become the heads known here and are added to the counts held. */
  #applyCommitted(rows: Row[], versionstamp: string, now: number) {
    for (const r of rows) {
      const st = this.#projects.get(r.pk)!;
      st.checkedAt = now;
      // a catch-up that ran while this commit landed may have applied our row already
      if (st.seq >= r.seq) continue;
      st.seq = r.seq;
      st.versionstamp = versionstamp;
      st.rows.set(r.seq, r.lines);
      for (const [c, p, q] of r.lines) {
        const k = countKey(c, p);
        const cur = st.counts.get(k);
        // a count dropped meanwhile is read again (whole) when next needed
        if (cur !== undefined) st.counts.set(k, cur + q);
      }
    }
  }

  /** Takes the next batch off the queue. */
  #take(): Pending[] {
    const { batch, rest } = takeBatch(this.#queue);
    this.#queue = rest;
    return batch;
  }

  /** Decides a batch, commits it (deciding again after a lost head check), answers its callers. */
  async #decideAndCommit(batch: Pending[]): Promise<void> {
    const pks = [...new Set(batch.map((p) => p.req.pk))];
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const existing = await this.#existing(batch);
      for (const pk of pks) {
        const st = await this.#state(pk);
        // a refusal is never decided on counts older than ttl (a reset elsewhere lowers them)
        if (this.#now() - st.checkedAt >= this.#ttlMs) await this.#catchUp(pk, st);
        const missing = batch.filter((p) => p.req.pk === pk && !st.counts.has(p.ck));
        if (missing.length) await this.#load(pk, missing.map((p) => p.ck));
      }
      // decided with no await between here and the heads captured for the commit: a count
      // dropped by a concurrent catch-up since it was loaded means loading again
      if (!batch.every((p) => this.#projects.get(p.req.pk)!.counts.has(p.ck))) continue;
      const { outcomes, lines, claims } = decideBatch(batch, {
        held: (pk, ck) => this.#projects.get(pk)!.counts.get(ck)!,
        existing,
        now: this.#now(),
      });
      const settle = () => batch.forEach((p, i) => p.resolve(outcomes[i]!));
      if (lines.size === 0) return settle();
      const now = this.#now();
      const rows = this.#rowsOf(lines);
      const started = this.onBatch ? performance.now() : 0;
      const versionstamp = await commitUsageBatch(this.#kv, {
        rows,
        claims: [...claims.values()],
        now,
      });
      this.commits++;
      this.onBatch?.(batch.length, performance.now() - started);
      if (versionstamp !== null) {
        this.#applyCommitted(rows, versionstamp, now);
        return settle();
      }
      // another instance appended (or claimed an idempotency key) first: catch up, decide again
      for (const pk of pks) await this.#catchUp(pk, this.#projects.get(pk)!);
    }
    throw new ConflictError("Cannot count usage: too many concurrent changes, try again");
  }

  /** The batch's idempotency records that exist already. */
  async #existing(batch: Pending[]) {
    const idem = [...new Map(batch.filter((p) => p.ik).map((p) => [p.ik!, p.idemKey!]))];
    const reads = await readIdempotency(this.#kv, idem.map(([, k]) => k));
    return new Map(idem.map(([ik], i) => [ik, reads[i]!.value ?? null]));
  }

  /** Folds a project's oldest rows once enough are known unfolded (one commit, off the answers). */
  async #foldIfDue(): Promise<void> {
    for (const [pk, st] of this.#projects) {
      if (st.rows.size < this.#foldRows) continue;
      const folded = await foldLog(this.#kv, pk, {
        maxRows: Math.max(this.#foldRows, 64),
        now: this.#now(),
        ...this.#bucketOpt,
      });
      if (folded !== null) this.#forgetFolded(st, folded);
      else await this.#catchUp(pk, st); // another instance folded: learn where it got to
    }
  }
}
