/**
 * What one meter instance holds of a project's usage: the head it knows, the log rows not folded
 * yet, and the counts exact at that head for the keys loaded so far. No KV here: the meter
 * (lib/usage/meter.ts) reads and commits; this keeps the arithmetic of what it learns.
 */
import type { LogLine } from "@/lib/kv/usage.ts";
import { parseCountKey, recentCountKey } from "@/lib/kv/usage_buckets.ts";

/**
 * The count held for one key: the same object for as long as the key stays held (rows add to
 * it in place), `dead` once it is dropped. A reader may keep the cell instead of the key and
 * skip the lookups while it lives (the hot path keeps it beside its cached customer).
 */
export class CountCell {
  n: number;
  dead = false;
  /** What holds it: whose head says how recent the count is. */
  readonly held: HeldProject;

  constructor(held: HeldProject, n: number) {
    this.held = held;
    this.n = n;
  }
}

/**
 * A reader's note of one customer's count cell for the period starting at `start`, and what the
 * reader last made of that count (`answer`: the reader's own; the meter never reads it, and a
 * new note, made when the cell or the period changes, starts without one).
 */
export interface CountMemo {
  start: string;
  cell: CountCell;
  answer?: MadeAnswer;
}

/** An answer a reader made from a count: good while the count is still `n` and its inputs hold. */
export interface MadeAnswer {
  n: number;
  json: string;
  /** what else it was made from (compared by identity) and the span of time it holds for */
  source: object;
  from: number;
  until: number;
}

export class HeldProject {
  /** The head (last log row) the counts are exact at, and its versionstamp. */
  seq = 0;
  versionstamp: string | null = null;
  /** Rows up to here are in the counters (as last seen). */
  folded = 0;
  /** Log rows known here and not folded yet (as last seen): seq → lines. */
  rows = new Map<number, LogLine[]>();
  #counts = new Map<string, CountCell>();
  /** customer → the keys of its counts held (one per period held, usually one) */
  #keysOf = new Map<string, string[]>();
  /**
   * Counts exact at `seq`, for the keys loaded so far (count key → its cell). Read-only outside:
   * a cell is live exactly while it is the one held for its key, so only this class drops them.
   */
  get counts(): ReadonlyMap<string, CountCell> {
    return this.#counts;
  }
  /** When the head was last confirmed (a commit of ours, or a read). */
  checkedAt = -Infinity;
  /** The catch-up in flight, if any: concurrent callers share it (rows are applied once). */
  catching: Promise<void> | null = null;
  /**
   * What each key gained in the rows held (seq, quantity): built when counts are loaded and
   * extended by the rows added since; dropped whenever rows are forgotten.
   */
  #gained: { seqs: Set<number>; byKey: Map<string, [seq: number, q: number][]> } | null = null;

  /**
   * A row of ours that committed: it becomes the head unless a catch-up applied it already.
   * `cells`: the cells its lines' counts were decided on, in the lines' order (a dead one, or one
   * of another holder, is looked up again).
   */
  committed(
    row: { seq: number; lines: LogLine[]; cells?: (CountCell | undefined)[] },
    versionstamp: string,
    now: number,
  ) {
    this.checkedAt = now;
    if (this.seq >= row.seq) return;
    this.seq = row.seq;
    this.versionstamp = versionstamp;
    this.rows.set(row.seq, row.lines);
    this.#add(row.lines, row.cells);
  }

  /**
   * Rows a catch-up read after `from`, up to the head `pos`. `lost`: rows between were folded
   * away before they could be read, so the counts held are dropped (loaded again when needed).
   */
  caughtUp(
    rows: { seq: number; lines: LogLine[] }[],
    o: { from: number; lost: boolean; pos: { seq: number; versionstamp: string | null } },
  ) {
    if (o.lost) {
      this.dropCounts();
      this.rows.clear();
      this.#gained = null;
    }
    // a commit of ours that landed while reading has applied its own row already
    const applied = o.lost ? o.from : this.seq;
    for (const r of rows) {
      this.rows.set(r.seq, r.lines);
      if (r.seq > applied) this.#add(r.lines);
    }
    if (o.pos.seq >= this.seq) {
      this.seq = o.pos.seq;
      this.versionstamp = o.pos.versionstamp;
    }
  }

  /**
   * Counts held gain the lines' quantities; a reset line drops what is held of its customer.
   * `cells[i]`, when live and held here, is line i's cell: the one held for its key.
   */
  #add(lines: LogLine[], cells?: (CountCell | undefined)[]) {
    for (let i = 0; i < lines.length; i++) {
      const [c, p, q] = lines[i]!;
      if (p === "") {
        // the customer's own counts, found through its keys (no walk over every count held)
        for (const k of [...this.#keysOf.get(c) ?? []]) this.#drop(k, this.#counts.get(k)!);
        continue;
      }
      const given = cells?.[i];
      // a count not held is read again (whole) when next needed
      const cell = this.holds(given) ? given : this.#counts.get(recentCountKey(c, p));
      if (cell !== undefined) cell.n += q;
    }
  }

  /** Whether `cell` is live and one of this project's: then it is the one held for its key. */
  holds(cell: CountCell | undefined): cell is CountCell {
    return cell !== undefined && !cell.dead && cell.held === this;
  }

  /** The periods of customer `c` that the rows held add to (reset lines left out). */
  periodsOf(c: string): string[] {
    const out = new Set<string>();
    for (const lines of this.rows.values()) {
      for (const [id, p] of lines) if (id === c && p !== "") out.add(p);
    }
    return [...out];
  }

  /** The count held for a key, if any. */
  count(ck: string): number | undefined {
    return this.#counts.get(ck)?.n;
  }

  /** Drops every count held (each is read again when next needed); their cells die. */
  dropCounts() {
    for (const cell of this.#counts.values()) cell.dead = true;
    this.#counts.clear();
    this.#keysOf.clear();
  }

  /**
   * Drops the `n` counts loaded longest ago but those of `keep` (each is read again when next
   * needed): the work is the counts dropped, not the counts held.
   */
  dropOldest(n: number, keep?: ReadonlySet<string>) {
    for (const [k, cell] of this.#counts) {
      if (n <= 0) return;
      if (keep?.has(k)) continue;
      this.#drop(k, cell);
      n--;
    }
  }

  #drop(k: string, cell: CountCell) {
    cell.dead = true;
    this.#counts.delete(k);
    const c = parseCountKey(k).customerId;
    const keys = this.#keysOf.get(c)!;
    keys.splice(keys.indexOf(k), 1);
    if (keys.length === 0) this.#keysOf.delete(c);
  }

  /** The rows up to `folded` are in the counters now: they are no longer held. */
  forgetFolded(folded: number) {
    if (folded <= this.folded) return;
    this.folded = folded;
    for (const seq of this.rows.keys()) if (seq <= folded) this.rows.delete(seq);
    this.#gained = null;
  }

  /**
   * Holds a key's count loaded from KV: its folded value as of watermark `folded`, plus what
   * the rows held after that watermark add (indexed once per row, not scanned per load).
   */
  load(ck: string, value: number, folded: number) {
    let count = value;
    for (const [seq, q] of this.#gainedIn().get(ck) ?? []) if (seq > folded) count += q;
    const cell = this.#counts.get(ck);
    if (cell !== undefined) {
      cell.n = count;
      return;
    }
    this.#counts.set(ck, new CountCell(this, count));
    const c = parseCountKey(ck).customerId;
    const keys = this.#keysOf.get(c);
    if (keys) keys.push(ck);
    else this.#keysOf.set(c, [ck]);
  }

  #gainedIn(): Map<string, [seq: number, q: number][]> {
    const g = this.#gained ??= { seqs: new Set(), byKey: new Map() };
    // rows are only added between resets of the index: equal sizes mean all are indexed
    if (g.seqs.size === this.rows.size) return g.byKey;
    for (const [seq, lines] of this.rows) {
      if (g.seqs.has(seq)) continue;
      g.seqs.add(seq);
      for (const [c, p, q] of lines) {
        const k = recentCountKey(c, p);
        const list = g.byKey.get(k);
        if (list) list.push([seq, q]);
        else g.byKey.set(k, [[seq, q]]);
      }
    }
    return g.byKey;
  }
}
