/**
 * When the meter folds its log (lib/kv/usage_fold.ts): a project's oldest rows once enough of
 * them are held unfolded, one fold at a time, beside the batch commits (never between a batch's
 * commit and its answers); every row on demand (shutdown, tests, before a usage reset).
 */
import { foldLog, sweepFoldedRows } from "@/lib/kv/usage_fold.ts";
import { readLogPosition } from "@/lib/kv/usage.ts";
import type { HeldProject } from "@/lib/usage/held.ts";

/** By default, fold once this many log rows of a project are known unfolded. */
const FOLD_AT = 2000;

export class LogFolder {
  #kv: Deno.Kv;
  #now: () => number;
  #rows: number;
  /** What folds are told of the tally buckets (see UsageMeter's constructor). */
  #bucketOpt: { bucketBytes?: number; bucketAt?: number };
  /** The fold in flight, if any. */
  #folding: Promise<void> | null = null;
  /** Projects whose folded rows left by an earlier process were swept (at their first fold). */
  #swept = new Set<string>();
  /** Told each fold of due rows: how many rows it folded and its time (ms), for /metrics. */
  onFold: ((rows: number, ms: number) => void) | null = null;

  constructor(
    kv: Deno.Kv,
    now: () => number,
    o: { foldRows?: number; bucketBytes?: number; bucketAt?: number },
  ) {
    this.#kv = kv;
    this.#now = now;
    this.#rows = o.foldRows ?? FOLD_AT;
    this.#bucketOpt = {
      ...(o.bucketBytes ? { bucketBytes: o.bucketBytes } : {}),
      ...(o.bucketAt ? { bucketAt: o.bucketAt } : {}),
    };
  }

  /**
   * Starts folding the projects that hold enough unfolded rows, unless a fold is in flight. A
   * fold lost to another folder calls `catchUp` (to learn where it got to); a failed fold is
   * retried after a later batch, its rows staying in the log meanwhile.
   */
  kick(
    projects: Map<string, HeldProject>,
    catchUp: (pk: string, st: HeldProject) => Promise<void>,
  ): void {
    if (this.#folding) return;
    if (!projects.values().some((st) => st.rows.size >= this.#rows)) return;
    this.#folding = this.#foldDue(projects, catchUp).catch(() => {}).finally(() => {
      this.#folding = null;
    });
  }

  /**
   * Folds every log row of these projects (after the fold in flight); what `projects` holds of
   * them forgets the rows folded.
   */
  async all(projects: Map<string, HeldProject>, pks: string[]): Promise<void> {
    await this.#folding;
    for (const pk of pks) {
      for (let i = 0; i < 10_000; i++) {
        const pos = await readLogPosition(this.#kv, pk);
        if (pos.folded >= pos.seq) {
          projects.get(pk)?.forgetFolded(pos.folded);
          break;
        }
        await foldLog(this.#kv, pk, { maxRows: 256, now: this.#now(), ...this.#bucketOpt });
      }
    }
  }

  async #foldDue(
    projects: Map<string, HeldProject>,
    catchUp: (pk: string, st: HeldProject) => Promise<void>,
  ): Promise<void> {
    for (const [pk, st] of projects) {
      if (st.rows.size < this.#rows) continue;
      if (!this.#swept.has(pk)) {
        await sweepFoldedRows(this.#kv, pk);
        this.#swept.add(pk);
      }
      const started = performance.now();
      const before = st.folded;
      const folded = await foldLog(this.#kv, pk, {
        maxRows: Math.max(this.#rows, 64),
        now: this.#now(),
        held: st.rows,
        ...this.#bucketOpt,
      });
      if (folded !== null) {
        st.forgetFolded(folded);
        this.onFold?.(folded - before, performance.now() - started);
      } else await catchUp(pk, st); // another instance folded: learn where it got to
    }
  }
}
