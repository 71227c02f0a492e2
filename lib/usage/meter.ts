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
 * written. A call the counts held already refuse is answered at once, without joining a batch:
 * the batch would refuse it too, and it writes nothing. The log is folded into per-customer
 * counters later, up to a few thousand rows per commit, off the acknowledgement path; a count is
 * its folded counter plus the log rows after the fold watermark.
 *
 * The counts held here are exact as of the project's head this instance knows. Reads trust them
 * while that head was confirmed less than `ttlMs` ago (one head read per project per interval,
 * never one read per counter); another instance's increments show within that time.
 */
import { ConflictError } from "@/lib/errors.ts";
import { idempotencyKeys, type IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import {
  commitUsageBatch,
  type LogLine,
  readIdempotency,
  readLogPosition,
  resetCustomerUsage,
} from "@/lib/kv/usage.ts";
import { LogFolder } from "@/lib/usage/folder.ts";
import { recentCountKey } from "@/lib/kv/usage_buckets.ts";
import type { Period } from "@/lib/period.ts";
import type { CountCell, CountMemo, HeldProject } from "@/lib/usage/held.ts";
import { HeldProjects } from "@/lib/usage/held_projects.ts";
import {
  decideBatch,
  passesEnd,
  type Pending,
  takeBatch,
  type TrackOutcome,
  type TrackRequest,
} from "@/lib/usage/decide.ts";
import { usageView } from "@/lib/usage/view.ts";

export { usageJson, type UsageView, usageView } from "@/lib/usage/view.ts";
export type { TrackOutcome, TrackRequest } from "@/lib/usage/decide.ts";

const MAX_ATTEMPTS = 25;
const NO_RECORDS = new Map<string, IdempotencyRecord | null>();

type Row = {
  pk: string;
  seq: number;
  headVersionstamp: string | null;
  lines: LogLine[];
  /** the cells the lines' counts were decided on, in the lines' order */
  cells: (CountCell | undefined)[];
};
/** A batch decided, its commit sent, its callers not answered yet. */
interface InFlight {
  batch: Pending[];
  outcomes: TrackOutcome[];
  rows: Row[];
  now: number;
  started: number;
  /** commits of this batch lost to another writer so far */
  attempt: number;
  /** the commit's versionstamp, null when another writer got there first */
  commit: Promise<string | null>;
}

export class UsageMeter {
  #kv: Deno.Kv;
  #now: () => number;
  #ttlMs: number;
  #folder: LogFolder;
  #held: HeldProjects;
  #queue: Pending[] = [];
  #draining = false;
  /** Batch commits made, for tests and the benchmark (folds not counted). */
  commits = 0;
  /** Told each committed batch's size and commit time (ms), for /metrics; none by default. */
  onBatch: ((size: number, ms: number) => void) | null = null;
  /** Told each fold's rows and time (ms), for /metrics; none by default. */
  set onFold(fn: ((rows: number, ms: number) => void) | null) {
    this.#folder.onFold = fn;
  }

  /**
   * `ttlMs`: how old a confirmed head reads may answer from; `foldRows`: unfolded rows of a
   * project that make the meter fold; `bucketAt`: distinct keys in a fold's window from which it
   * writes tally buckets; tests: `bucketBytes` (smaller buckets), `maxCounts` (counts held).
   */
  constructor(
    kv: Deno.Kv,
    now: () => number,
    o: {
      ttlMs?: number;
      foldRows?: number;
      bucketBytes?: number;
      bucketAt?: number;
      maxCounts?: number;
    } = {},
  ) {
    this.#kv = kv;
    this.#now = now;
    this.#ttlMs = o.ttlMs ?? 0;
    this.#folder = new LogFolder(kv, now, o);
    this.#held = new HeldProjects(kv, now, o);
  }

  /**
   * Counts `quantity` for a customer unless it would pass the limit; resolves after commit. A
   * call the counts held already refuse (see `#refusedNow`) is answered at once.
   */
  track(req: TrackRequest): Promise<TrackOutcome> {
    return Promise.resolve(this.trackNow(req)); // a promise as it is, a refusal wrapped
  }

  /** `track()`, a refusal the counts held decide answered synchronously (not as a promise). */
  trackNow(req: TrackRequest): TrackOutcome | Promise<TrackOutcome> {
    const ck = recentCountKey(req.customerId, req.period.start);
    const st = this.#held.get(req.pk);
    // found once here; the batch reads the count through it while it lives
    const cell = st?.counts.get(ck);
    const refused = this.#refusedNow(req, st, cell);
    if (refused) return refused;
    const idemKey = req.idempotency ? idempotencyKeys.byKey(req.pk, req.idempotency.key) : null;
    return new Promise((resolve, reject) => {
      this.#queue.push({
        req,
        ck,
        idemKey,
        ik: idemKey ? JSON.stringify(idemKey) : null,
        cell,
        resolve,
        reject,
      });
      if (!this.#draining) this.#drain();
    });
  }

  /**
   * The refusal of a call, decided without waiting for a batch, when it is certain: its count is
   * held, the project's head was confirmed less than `ttlMs` ago (as for a batch decided without
   * reads), it carries no idempotency key, and the count held already passes its end. Counts held
   * are committed counts, which only grow until a reset (seen within `ttlMs`, as by any decision);
   * calls queued or in flight only add to them. So the batch would refuse it too, writing nothing.
   */
  #refusedNow(
    req: TrackRequest,
    st: HeldProject | undefined,
    cell: CountCell | undefined,
  ): TrackOutcome | null {
    if (req.idempotency || req.limit === null) return null;
    if (!this.#decidesNow(st, this.#now())) return null;
    if (cell === undefined || !passesEnd(req, cell.n)) return null;
    return { kind: "limited", usage: usageView(req, cell.n) };
  }

  /** A call's count cell in `st`, if held: the one it keeps while live and `st`'s, else found. */
  #cellOf(p: Pending, st: HeldProject): CountCell | undefined {
    return st.holds(p.cell) ? p.cell : p.cell = st.counts.get(p.ck);
  }

  /** Log rows this instance holds that are not folded yet, over all its projects. */
  unfoldedRows(): number {
    return this.#held.unfoldedRows();
  }

  /**
   * The count when its project's head was confirmed less than `ttlMs` ago (no KV read). `memo`:
   * where the reader keeps this customer's count cell (its cached customer entry), so that the
   * next read of the same period finds the count without a lookup while the cell lives.
   */
  peekCached(
    pk: string,
    customerId: string,
    period: Period,
    memo?: { aux: CountMemo | undefined },
  ): number | undefined {
    let m = memo?.aux;
    if (m === undefined || m.start !== period.start || m.cell.dead) {
      const cell = this.#held.get(pk)?.counts.get(recentCountKey(customerId, period.start));
      if (cell === undefined) return undefined;
      m = { start: period.start, cell };
      if (memo) memo.aux = m;
    }
    return this.countOf(m, this.#now());
  }

  /**
   * The count of a note `peekCached` made (no lookup), while its cell lives and its project's head
   * was confirmed less than `ttlMs` ago; the caller knows the note is for the period it wants.
   */
  countOf(m: CountMemo, now: number): number | undefined {
    return !m.cell.dead && this.#confirmed(m.cell.held, now) ? m.cell.n : undefined;
  }

  /** The current count of a customer's period: the head is confirmed first when it is old. */
  async peek(pk: string, customerId: string, period: Period): Promise<number> {
    const hit = this.peekCached(pk, customerId, period);
    if (hit !== undefined) return hit;
    await this.#current(pk);
    const [count] = await this.#held.load(pk, [recentCountKey(customerId, period.start)]);
    return count!;
  }

  /** The periods a customer has counts in, in the log rows not folded yet (at a recent head). */
  async loggedPeriods(pk: string, customerId: string): Promise<string[]> {
    return (await this.#current(pk)).periodsOf(customerId);
  }

  /**
   * Deletes a customer's usage, of the period starting at `periodStart` (a usage reset) or of
   * every period (a deletion): every row is folded, the counters go and a reset line is appended
   * under the head, so every instance reads the customer's counts again when it next catches up.
   */
  async resetCustomer(pk: string, customerId: string, periodStart?: string): Promise<void> {
    const st = await this.#held.state(pk);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      await this.flush(pk);
      const pos = await readLogPosition(this.#kv, pk);
      const done = await resetCustomerUsage(this.#kv, pk, {
        customerId,
        ...(periodStart !== undefined ? { periodStart } : {}),
        at: { seq: pos.seq, versionstamp: pos.versionstamp },
      });
      if (done) {
        // takes the reset line like any other; if that read fails, the project is read again
        // before anything more is decided on it here (the reset itself is done)
        await this.#held.catchUpAfterNow(pk, st).catch(() => void (st.checkedAt = -Infinity));
        return;
      }
    }
    throw new ConflictError("Cannot delete the usage: too many concurrent changes, try again");
  }

  /** Folds every log row of the projects this instance has met (shutdown, tests, deletion). */
  flush(pk?: string): Promise<void> {
    return this.#folder.all(this.#held.all, pk ? [pk] : [...this.#held.all.keys()]);
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      // a batch whose commit is out, its callers not answered yet
      let flight: InFlight | null = null;
      while (flight || this.#queue.length > 0) {
        if (!flight) {
          const batch = this.#take();
          try {
            flight = this.#sendIfReady(batch) ?? await this.#prepare(batch, 0);
          } catch (err) {
            for (const p of batch) p.reject(err);
            continue;
          }
        }
        const done: InFlight = flight;
        flight = null;
        try {
          const versionstamp = await done.commit;
          if (done.rows.length > 0) {
            this.commits++;
            this.onBatch?.(done.batch.length, performance.now() - done.started);
          }
          if (versionstamp === null) {
            // another instance appended (or claimed an idempotency key) first: catch up, decide again
            if (done.attempt + 1 >= MAX_ATTEMPTS) {
              throw new ConflictError("Cannot count usage: too many concurrent changes, try again");
            }
            for (const r of done.rows) await this.#held.catchUp(r.pk, this.#held.get(r.pk)!);
            flight = await this.#prepare(done.batch, done.attempt + 1);
            continue;
          }
          for (const r of done.rows) this.#held.get(r.pk)!.committed(r, versionstamp, done.now);
        } catch (err) {
          for (const p of done.batch) p.reject(err);
          continue;
        }
        // the next batch's commit goes out before this one's answers are written, so that KV
        // works on it meanwhile (when it can be decided on what is held: the common case)
        if (this.#queue.length > 0) {
          const batch = this.#take();
          try {
            flight = this.#sendIfReady(batch);
            if (!flight) this.#queue = batch.concat(this.#queue); // the loop prepares it
          } catch (err) {
            for (const p of batch) p.reject(err); // never leaves `done` unanswered
          }
        }
        done.batch.forEach((p, i) => p.resolve(done.outcomes[i]!));
        // beside the next batches, not between them: a fold never delays an answer
        this.#folder.kick(this.#held.all, (pk, st) => this.#held.catchUp(pk, st));
      }
    } finally {
      this.#draining = false;
    }
  }

  /** Takes the next batch off the queue. */
  #take(): Pending[] {
    const { batch, rest } = takeBatch(this.#queue);
    this.#queue = rest;
    return batch;
  }

  /** Whether `st` may decide calls without a read: head confirmed within `ttlMs`, no catch-up. */
  #decidesNow(st: HeldProject | undefined, now: number): st is HeldProject {
    return st !== undefined && st.catching === null && this.#confirmed(st, now);
  }

  /** Whether a project's head was confirmed less than `ttlMs` ago (what reads may trust). */
  #confirmed(st: HeldProject, now: number): boolean {
    return now - st.checkedAt < this.#ttlMs;
  }

  /** What is held of a project, its head confirmed first when that was `ttlMs` ago or more. */
  async #current(pk: string): Promise<HeldProject> {
    const st = await this.#held.state(pk);
    if (!this.#confirmed(st, this.#now())) await this.#held.catchUp(pk, st);
    return st;
  }

  /**
   * Decides and sends a batch at once when it needs no read: every count held and fresh, no
   * idempotency key; else null (`#prepare` reads what it needs first).
   */
  #sendIfReady(batch: Pending[]): InFlight | null {
    const now = this.#now();
    const ready = batch.every((p) => {
      const st = this.#held.get(p.req.pk);
      return !p.idemKey && this.#decidesNow(st, now) && this.#cellOf(p, st) !== undefined;
    });
    return ready ? this.#send(batch, NO_RECORDS, 0) : null;
  }

  /**
   * Reads what deciding a batch needs: the idempotency records, heads older than ttl (a refusal
   * is never decided on older counts: a reset elsewhere lowers them), the counts not held.
   */
  async #prepare(batch: Pending[], attempt: number): Promise<InFlight> {
    const pks = [...new Set(batch.map((p) => p.req.pk))];
    for (let i = attempt; i < MAX_ATTEMPTS; i++) {
      const existing = await this.#existing(batch);
      for (const pk of pks) {
        const st = await this.#current(pk);
        // all the project's keys of the batch, held or not: making room never drops those
        const keys = batch.filter((p) => p.req.pk === pk).map((p) => p.ck);
        if (keys.some((k) => !st.counts.has(k))) await this.#held.load(pk, keys);
      }
      // a count dropped by a concurrent catch-up since it was loaded means loading again
      if (batch.every((p) => this.#held.get(p.req.pk)!.counts.has(p.ck))) {
        return this.#send(batch, existing, i);
      }
    }
    throw new ConflictError("Cannot count usage: too many concurrent changes, try again");
  }

  /**
   * Decides a batch on the counts held and sends its commit, with no await between the two
   * (the heads the rows check are the ones the decisions were made on).
   */
  #send(
    batch: Pending[],
    existing: Map<string, IdempotencyRecord | null>,
    attempt: number,
  ): InFlight {
    const now = this.#now();
    const { outcomes, lines, cells, claims } = decideBatch(batch, {
      held: (p) => this.#cellOf(p, this.#held.get(p.req.pk)!)!.n,
      existing,
      now,
    });
    const rows = [...lines].map(([pk, perKey]): Row => {
      const st = this.#held.get(pk)!;
      return {
        pk,
        seq: st.seq + 1,
        headVersionstamp: st.versionstamp,
        lines: [...perKey.values()],
        cells: cells.get(pk)!,
      };
    });
    const commit = rows.length === 0
      ? Promise.resolve("") // nothing counted, nothing to append
      : commitUsageBatch(this.#kv, { rows, claims: [...claims.values()], now });
    return { batch, outcomes, rows, now, started: performance.now(), attempt, commit };
  }

  /** The batch's idempotency records that exist already. */
  async #existing(batch: Pending[]) {
    const idem = [...new Map(batch.filter((p) => p.ik).map((p) => [p.ik!, p.idemKey!]))];
    const reads = await readIdempotency(this.#kv, idem.map(([, k]) => k));
    return new Map(idem.map(([ik], i) => [ik, reads[i]!.value ?? null]));
  }
}
