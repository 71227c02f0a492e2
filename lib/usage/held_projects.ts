/**
 * What one meter instance holds of every project it has met (lib/usage/held.ts), kept at each
 * project's head in KV: the head read, the rows appended elsewhere read and added, the counts not
 * held yet loaded. The meter (lib/usage/meter.ts) decides and commits on top of it.
 */
import { readCounters, readLog, readLogPosition } from "@/lib/kv/usage.ts";
import { parseCountKey } from "@/lib/kv/usage_buckets.ts";
import { HeldProject } from "@/lib/usage/held.ts";

/**
 * Counts held over all projects past which the ones loaded longest ago are dropped (read again
 * when needed), down to three quarters of it.
 */
const MAX_CACHED = 200_000;

export class HeldProjects {
  #kv: Deno.Kv;
  #now: () => number;
  /** project → what is held of it; a project met stays (what it holds is small once folded) */
  readonly all = new Map<string, HeldProject>();

  #max: number;

  /** `maxCounts` (tests): counts held over all projects before the oldest are dropped. */
  constructor(kv: Deno.Kv, now: () => number, o: { maxCounts?: number } = {}) {
    this.#kv = kv;
    this.#now = now;
    this.#max = o.maxCounts ?? MAX_CACHED;
  }

  get(pk: string): HeldProject | undefined {
    return this.all.get(pk);
  }

  /** Log rows held that are not folded yet, over all projects. */
  unfoldedRows(): number {
    let n = 0;
    for (const st of this.all.values()) n += st.rows.size;
    return n;
  }

  /** What is held of a project, brought to its head first when it is met for the first time. */
  async state(pk: string): Promise<HeldProject> {
    let st = this.all.get(pk);
    if (!st) {
      st = new HeldProject();
      this.all.set(pk, st);
      await this.catchUp(pk, st);
    }
    return st;
  }

  /**
   * Brings a project's state to the head in KV: the rows appended elsewhere are read and added
   * to the counts held. If they were folded away meanwhile, the counts are dropped (read again).
   * One catch-up per project at a time: concurrent callers wait for the one in flight.
   */
  catchUp(pk: string, st: HeldProject): Promise<void> {
    st.catching ??= this.#readAhead(pk, st).finally(() => {
      st.catching = null;
    });
    return st.catching;
  }

  /**
   * A catch-up that reads the head after now, for a caller that must see a commit it has just
   * made beside the meter's batches (a reset): one under way may have read the head before that
   * commit, so it is let finish first; one started after it may be joined.
   */
  async catchUpAfterNow(pk: string, st: HeldProject): Promise<void> {
    const under = st.catching;
    if (under) await under.catch(() => {});
    return this.catchUp(pk, st);
  }

  async #readAhead(pk: string, st: HeldProject): Promise<void> {
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
      st.caughtUp(rows, { from, lost, pos });
    }
    st.forgetFolded(pos.folded);
    st.checkedAt = this.#now();
  }

  /**
   * Loads counts not held yet: folded counter + the known log rows after its watermark. Answers
   * the keys' counts as held when it ends (read in the same step: a catch-up that drops counts
   * can't come between); undefined for a key dropped meanwhile (too many counts held).
   */
  async load(pk: string, keys: string[]): Promise<(number | undefined)[]> {
    const st = this.all.get(pk)!;
    const missing = [...new Set(keys)].filter((k) => !st.counts.has(k));
    if (missing.length === 0) return keys.map((k) => st.count(k));
    const parts = missing.map(parseCountKey);
    const read = await readCounters(this.#kv, pk, parts);
    if (read.some((r) => r.folded > st.seq)) {
      // folded past the head we know: catch up first, then read again
      await this.catchUp(pk, st);
      return this.load(pk, keys);
    }
    if (read.some((r) => r.folded < st.folded)) {
      // a fold landed while reading: the rows between are no longer held, read again
      return this.load(pk, keys);
    }
    let held = 0;
    for (const p of this.all.values()) held += p.counts.size;
    if (held + missing.length > this.#max) this.#shed(held, pk, keys);
    missing.forEach((k, i) => st.load(k, read[i]!.value, read[i]!.folded));
    return keys.map((k) => st.count(k));
  }

  /**
   * Too many counts held: each project drops its share of them, those loaded longest ago, down
   * to three quarters of the bound, but never `keys` of `pk` (the ones being loaded for). Every
   * other count stays held, so the customers in use keep being answered without a read (dropping
   * them all made every one of them read again at once).
   */
  #shed(held: number, pk: string, keys: string[]) {
    const excess = held - Math.floor(this.#max * 0.75);
    if (excess <= 0) return;
    const keep = new Set(keys);
    for (const [k, p] of this.all) {
      p.dropOldest(Math.ceil(excess * p.counts.size / held), k === pk ? keep : undefined);
    }
  }
}
