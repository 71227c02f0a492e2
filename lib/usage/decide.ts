/**
 * How the meter decides a batch, in arrival order, on the counts it holds: a call past its limit
 * is refused (nothing counted), a repeated idempotency key answers the first result (or a
 * conflict for another body), everything else is counted. Pure: no KV, no time of its own.
 */
import type { IdempotencyRecord } from "@/lib/kv/idempotency.ts";
import type { LogLine } from "@/lib/kv/usage.ts";
import type { Period } from "@/lib/period.ts";
import { type UsageView, usageView } from "@/lib/usage/view.ts";

export interface TrackRequest {
  pk: string;
  customerId: string;
  plan: string;
  period: Period;
  limit: number | null;
  /**
   * With overage: how far past the limit calls are accepted (null: no end); absent: the limit
   * is the end.
   */
  overageCap?: number | null;
  overage?: boolean;
  quantity: number;
  idempotency?: { key: string; fingerprint: string };
}

export type TrackOutcome =
  | { kind: "counted"; usage: UsageView }
  | { kind: "limited"; usage: UsageView }
  | { kind: "replayed"; record: IdempotencyRecord }
  | { kind: "idempotency_conflict" };

export interface Pending {
  req: TrackRequest;
  /** customer \0 period start: the count's key within its project */
  ck: string;
  idemKey: Deno.KvKey | null;
  ik: string | null;
  resolve: (o: TrackOutcome) => void;
  reject: (e: unknown) => void;
}

/**
 * The outcome of each call, the lines to append per project (pk → count key → line)
 * and the idempotency records to create. `held(pk, key)` is the count held for a key.
 */
export function decideBatch(
  batch: Pending[],
  o: {
    held: (pk: string, countKey: string) => number;
    existing: Map<string, IdempotencyRecord | null>;
    now: number;
  },
) {
  const existing = o.existing;
  const outcomes: TrackOutcome[] = [];
  const claims = new Map<string, { key: Deno.KvKey; record: IdempotencyRecord }>();
  const lines = new Map<string, Map<string, LogLine>>();
  for (const p of batch) {
    const ik = p.ik;
    const id = p.req.idempotency;
    if (id && ik) {
      const prior = existing.get(ik) ?? claims.get(ik)?.record ?? null;
      if (prior) {
        outcomes.push(
          prior.fingerprint === id.fingerprint
            ? { kind: "replayed", record: prior }
            : { kind: "idempotency_conflict" },
        );
        continue;
      }
    }
    const { pk, quantity, limit } = p.req;
    const perKey = lines.get(pk) ?? new Map<string, LogLine>();
    const line = perKey.get(p.ck);
    const count = o.held(pk, p.ck) + (line ? line[2] : 0);
    const end = limit === null || !p.req.overage
      ? limit
      : p.req.overageCap == null
      ? null
      : limit + p.req.overageCap;
    if (end !== null && count + quantity > end) {
      outcomes.push({ kind: "limited", usage: usageView(p.req, count) });
      continue;
    }
    if (line) line[2] += quantity;
    else perKey.set(p.ck, [p.req.customerId, p.req.period.start, quantity]);
    lines.set(pk, perKey);
    const usage = usageView(p.req, count + quantity);
    outcomes.push({ kind: "counted", usage });
    if (id && ik) {
      claims.set(ik, {
        key: p.idemKey!,
        record: {
          fingerprint: id.fingerprint,
          status: 200,
          body: { success: true, usage },
          createdAt: o.now,
        },
      });
    }
  }
  return { outcomes, lines, claims };
}

/** What this instance knows of one project's usage. */
export interface ProjectState {
  /** The head (last log row) the counts below are exact at, and its versionstamp. */
  seq: number;
  versionstamp: string | null;
  /** Rows up to here are in the counters (as last seen). */
  folded: number;
  /** Log rows known here and not folded yet (as last seen): seq → lines. */
  rows: Map<number, LogLine[]>;
  /** Counts exact at `seq`, for the keys loaded so far. */
  counts: Map<string, number>;
  /** When the head was last confirmed (a commit of ours, or a read). */
  checkedAt: number;
  /** The catch-up in flight, if any: concurrent callers share it (rows are applied once). */
  catching: Promise<void> | null;
}
